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


def test_attempt_judges_like_is_limited_then_record_hit_and_counts_no_refused_attempt(
        database) -> None:
    """The one-statement `attempt` (the cast uses it) lets the same attempts through as the
    two-step check, across a window boundary, and a refused attempt leaves no count behind."""
    spec = "5/300"
    end_of_window = datetime.fromtimestamp(300 * 6_000_000 - 1, UTC)
    moments = [end_of_window] * 7 + [end_of_window + timedelta(seconds=s) for s in (2, 150, 299)
                                     for _ in range(4)]
    with database.session(write=True) as s:
        two_step = []
        for now in moments:
            allowed = not ratelimit.is_limited(s, "two-step", spec, now)
            if allowed:
                ratelimit.record_hit(s, "two-step", spec, now)
            two_step.append(allowed)
        one_step = [ratelimit.attempt(s, "one-step", spec, now) for now in moments]
        assert one_step == two_step
        assert one_step.count(True) < len(moments)  # some were refused
        later = end_of_window + timedelta(seconds=299)
        assert ratelimit.record_hit(s, "one-step", spec, later) == \
            ratelimit.record_hit(s, "two-step", spec, later)
