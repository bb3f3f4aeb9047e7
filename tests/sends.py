"""A record of what an app-side engine client sends, its real `send` still doing the sending."""

from __future__ import annotations


def record_sends(client) -> list[dict]:
    """Every message `client` sends from now on, as the frame it goes out as (appended in order)."""
    sent: list[dict] = []
    real_send = client.send

    async def send(msg):
        sent.append(msg.to_message() if hasattr(msg, "to_message") else msg)
        await real_send(msg)

    client.send = send
    return sent
