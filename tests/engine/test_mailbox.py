import asyncio
import threading

from engine.decode.mailbox import Mailbox


def test_items_posted_from_another_thread_arrive_in_order_and_in_batches():
    async def go():
        box = Mailbox(asyncio.get_running_loop())
        done = threading.Event()

        def worker():
            for i in range(5000):
                box.post(i)
            done.set()

        threading.Thread(target=worker).start()
        got, batches = [], 0
        while len(got) < 5000:
            got += await box.take()
            batches += 1
        return got, batches

    got, batches = asyncio.run(go())
    assert got == list(range(5000))
    assert batches < 5000  # bursts arrive together, not one wake-up per item
