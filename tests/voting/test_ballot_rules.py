"""Property tests: each ballot type accepts exactly the ballots its rules describe, and a
basket never goes over a limit however it is edited."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from voting import ballots
from voting.ballots import BallotRules
from voting.tally.model import BallotKind

IDS = st.integers(1, 12)


@st.composite
def rules(draw: st.DrawFn, kind: BallotKind | None = None) -> BallotRules:
    kind = kind or draw(st.sampled_from(ballots.KINDS))
    ids = draw(st.sets(IDS, min_size=1, max_size=8))
    costs = {i: draw(st.integers(0, 1000)) for i in sorted(ids)}
    max_choices = draw(st.integers(1 if kind == BallotKind.ORDINAL else 0, 6))
    min_choices = draw(st.integers(0, max_choices or 6))
    return BallotRules(kind, costs, draw(st.integers(0, 3000)), max_choices, min_choices,
                       draw(st.integers(1, 20)), draw(st.integers(0, 10)),
                       draw(st.integers(0, 100)))


@st.composite
def ballot_for(draw: st.DrawFn, r: BallotRules) -> dict[int, int]:
    pool = sorted(r.costs) + [99]  # 99 is never on a ballot
    chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=8))
    if r.kind == BallotKind.ORDINAL and draw(st.booleans()):
        return {idea: rank for rank, idea in enumerate(chosen, start=1)}
    return {idea: draw(st.integers(0, 12)) if draw(st.booleans()) else 1 for idea in chosen}


def plainly_valid(r: BallotRules, marks: dict[int, int]) -> bool:
    """The rules as a resident reads them, written independently of the code under test."""
    if not marks or any(i not in r.costs for i in marks):
        return False
    if len(marks) < max(r.min_choices, 1) or (r.max_choices and len(marks) > r.max_choices):
        return False
    if r.kind in (BallotKind.APPROVAL, BallotKind.KNAPSACK) and set(marks.values()) != {1}:
        return False
    if r.kind == BallotKind.KNAPSACK:
        total = sum(r.costs[i] for i in marks)
        share = math.ceil(r.budget * r.min_spend_percent / 100) if r.min_spend_percent else 0
        needed = min(share, r.budget, sum(r.costs.values()))
        if total > r.budget or total < needed:
            return False
    if r.kind == BallotKind.CUMULATIVE:
        cap = r.max_points_per_project or r.points_total
        if not all(1 <= p <= cap for p in marks.values()) or sum(marks.values()) > r.points_total:
            return False
    if r.kind == BallotKind.ORDINAL and sorted(marks.values()) != list(range(1, len(marks) + 1)):
        return False
    return True


@settings(max_examples=400)
@given(st.data())
def test_each_ballot_type_accepts_exactly_the_ballots_its_rules_allow(data) -> None:
    r = data.draw(rules())
    marks = data.draw(ballot_for(r))
    assert (ballots.check_ballot(r, marks) == []) == plainly_valid(r, marks)


@settings(max_examples=200)
@given(st.data())
def test_an_accepted_knapsack_ballot_fits_the_budget_and_spends_the_minimum(data) -> None:
    r = data.draw(rules(BallotKind.KNAPSACK))
    marks = data.draw(ballot_for(r))
    if not ballots.check_ballot(r, marks):
        assert r.min_spend <= ballots.spent(r, marks) <= r.budget


@settings(max_examples=300)
@given(st.data())
def test_a_basket_never_goes_over_a_limit_however_it_is_edited(data) -> None:
    r = data.draw(rules())
    marks: dict[int, int] = {}
    edits = data.draw(st.lists(st.tuples(
        st.sampled_from(["add", "remove", "up", "down", "points"]),
        st.sampled_from(sorted(r.costs) + [99]), st.integers(0, 25)), max_size=25))
    for action, idea, points in edits:
        new, problems = ballots.edit_basket(r, marks, action, idea, points)
        assert ballots.hard_problems(r, new) == []
        if problems:
            assert new == marks and all(p.code in ballots.HARD for p in problems)
        marks = new
    if r.kind == BallotKind.ORDINAL:
        assert sorted(marks.values()) == list(range(1, len(marks) + 1))


@given(st.dictionaries(IDS, st.integers(0, 10**6), max_size=10),
       st.sampled_from(ballots.KINDS))
def test_the_stored_form_reads_back_the_same_ballot(marks, kind) -> None:
    text = ballots.dumps(kind, marks)
    assert ballots.loads(text) == marks
    assert ballots.dumps(kind, dict(reversed(list(marks.items())))) == text
    assert ballots.parse_marks([f"{i}:{m}" for i, m in marks.items()]) == marks


@given(st.lists(st.text(max_size=12), max_size=5))
def test_malformed_form_marks_are_refused_not_crashed(values) -> None:
    parsed = ballots.parse_marks(values)
    assert parsed is None or all(isinstance(k, int) for k in parsed)


def test_rules_in_examples_a_resident_would_recognise() -> None:
    r = BallotRules(BallotKind.KNAPSACK, {1: 600, 2: 500, 3: 100}, 1000, min_spend_percent=70)
    assert [p.code for p in ballots.check_ballot(r, {1: 1, 2: 1})] == ["over_budget"]
    assert [p.code for p in ballots.check_ballot(r, {3: 1})] == ["under_spend"]
    assert ballots.check_ballot(r, {1: 1, 3: 1}) == []
    c = BallotRules(BallotKind.CUMULATIVE, {1: 0, 2: 0}, 0, points_total=5,
                    max_points_per_project=3)
    assert [p.code for p in ballots.check_ballot(c, {1: 4})] == ["points_per_project"]
    assert [p.code for p in ballots.check_ballot(c, {1: 3, 2: 3})] == ["too_many_points"]
    o = BallotRules(BallotKind.ORDINAL, {1: 0, 2: 0, 3: 0}, 0, max_choices=2)
    assert [p.code for p in ballots.check_ballot(o, {1: 1, 2: 1})] == ["ranks"]
    assert [p.code for p in ballots.check_ballot(o, {1: 1, 2: 2, 3: 3})] == ["too_many"]
