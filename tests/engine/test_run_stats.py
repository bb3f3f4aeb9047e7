"""RunStats: what the decode loop measures, turned into `done.stats` with units in every name."""

from engine.decode.loop import RunStats
from wire import Problem


def test_run_stats_give_done_figures_in_milliseconds_and_tokens_per_second():
    stats = RunStats(t_arrival_s=100.0, context_tokens=512, speculate=True, out_of_scope=False, tokens_before=3)
    for t in (100.050, 100.060, 100.070, 100.090):  # four tokens: first at 50 ms, then 40 ms for three more
        stats.token_at(t)
    stats.draft_proposed_tokens, stats.draft_accepted_tokens, stats.verify_passes = 8, 6, 2
    done = stats.done_stats(tokens_out=4, tokens_total=7, parses=True)
    assert stats.tokens_emitted == 4
    assert done.ttft_ms == 50.0
    assert done.decode_tok_s == 75.0  # 3 tokens in 40 ms
    assert done.e2e_tok_s == round(4 / 0.090, 1)  # arrival to the last token
    assert done.draft_acceptance_ratio == 0.75
    assert (done.tokens_out, done.tokens_total, done.context_tokens, done.parses) == (4, 7, 512, True)


def test_a_run_without_tokens_reports_no_first_token_time_and_no_rates():
    stats = RunStats(t_arrival_s=0.0, context_tokens=512, speculate=False, out_of_scope=True,
                     error=Problem("context_overflow", "too long"))
    message = stats.done_stats(tokens_out=0, tokens_total=0, parses=None).to_message()
    assert "ttft_ms" not in message and "parses" not in message
    assert message["decode_tok_s"] == message["e2e_tok_s"] == message["draft_acceptance_ratio"] == 0.0
    assert message["error"] == {"code": "context_overflow", "message": "too long"}
    assert message["out_of_scope"] is True and message["prompt_tokens"] == 0
