from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import ratelimit


def test_a_burst_across_a_window_boundary_cannot_pass_twice_the_limit(database) -> None:
    spec = "5/300"
    end_of_window = datetime.fromtimestamp(300 * 6_000_000 - 1, UTC)
    passed = 0
    with database.session(write=True) as s:
        for now in [end_of_window] * 5 + [end_of_window + timedelta(seconds=2)] * 5:
            if not ratelimit.is_limited(s, "abuse:boundary", spec, now):
                ratelimit.record_hit(s, "abuse:boundary", spec, now)
                passed += 1
    # A fixed window let all ten through; the sliding one lets the limit (and a rounding) by.
    assert passed <= 6


def test_the_previous_window_fades_out_as_the_sliding_window_moves(database) -> None:
    spec = "4/300"
    start = datetime.fromtimestamp(300 * 6_000_000, UTC)
    with database.session(write=True) as s:
        for _ in range(4):
            ratelimit.record_hit(s, "abuse:fade", spec, start)
        assert ratelimit.is_limited(s, "abuse:fade", spec, start + timedelta(seconds=300))
        assert not ratelimit.is_limited(s, "abuse:fade", spec, start + timedelta(seconds=599))
