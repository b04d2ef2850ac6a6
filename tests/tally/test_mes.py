"""The Method of Equal Shares: known outcomes, ties, add1 conventions and explanations."""

from __future__ import annotations

from fractions import Fraction

from tally_helpers import HOSTILE, approvals, cumulative

from voting.tally.explain import explain
from voting.tally.result import ComparisonStep, CompletionStep, MesStep
from voting.tally.rules import RuleSpec, tally
from voting.tally.tiebreak import TieBreak

MES = RuleSpec(rule="mes")


def test_a_minority_gets_its_fair_share_where_greedy_gives_it_nothing() -> None:
    # 3 voters want p0/p1, 1 voter wants p2; budget 40 => 10 per voter.
    election = approvals([20, 20, 10], 40, [[0, 1], [0, 1], [0, 1], [2]])
    assert set(tally(election, RuleSpec()).selected) == {"p0", "p1"}
    funded = set(tally(election, MES).selected)
    # The majority can afford only one of its two identical projects; the minority its own.
    assert "p2" in funded and len(funded & {"p0", "p1"}) == 1


def test_supporters_short_of_money_pay_all_they_have_and_the_rest_share_the_price() -> None:
    election = approvals([30, 25], 40, [[0, 1], [0], [0], [0]])
    result = tally(election, MES)
    first = result.steps[0]
    assert isinstance(first, MesStep) and first.project == "p0"
    assert first.price == Fraction(30, 4) and first.effective_votes == 4
    assert sum(p.total for p in first.payments) == 30


def test_exact_ties_are_broken_by_the_chain_and_reported() -> None:
    election = approvals([10, 10], 10, [[0, 1]])
    by_lot = tally(election, RuleSpec(rule="mes", tie_break=TieBreak.parse("max-cost,id")))
    assert by_lot.selected == ("p0",)
    step = by_lot.steps[0]
    assert isinstance(step, MesStep) and step.tied == ("p1",)
    reverse_ids = TieBreak.parse("lot:1")
    assert tally(election, RuleSpec(rule="mes", tie_break=reverse_ids)).tie_break == "lot:1"


def test_cardinal_utilities_weight_payments_by_points() -> None:
    election = cumulative([10], 40, [{0: 3}, {0: 1}])
    step = tally(election, MES).steps[0]
    assert isinstance(step, MesStep) and step.unit == "point"
    assert {(p.voters, p.each) for p in step.payments} == {
        (1, Fraction(15, 2)),
        (1, Fraction(5, 2)),
    }


def test_add1_raises_the_share_until_the_outcome_would_not_fit() -> None:
    election = approvals([30, 30, 30], 60, [[0], [1], [2], [0, 1, 2]])
    plain = tally(election, MES)
    add1 = tally(election, RuleSpec(rule="mes", completion="add1"))
    assert plain.total_cost < add1.total_cost <= 60
    completion = add1.steps[0]
    assert isinstance(completion, CompletionStep) and completion.per_voter_budget is not None
    assert completion.per_voter_budget >= 15


def test_add1u_fills_what_add1_leaves_with_greedy() -> None:
    election = approvals([30, 25, 5], 60, [[0], [0], [1], [2], [2]])
    result = tally(election, RuleSpec(rule="mes", completion="add1u"))
    assert result.total_cost <= 60
    assert any(isinstance(s, CompletionStep) and s.method == "utilitarian" for s in result.steps)


def test_comparison_step_keeps_greedy_only_when_strictly_more_voters_prefer_it() -> None:
    election = approvals([20, 20, 10], 40, [[0, 1], [0, 1], [0, 1], [2]])
    result = tally(election, RuleSpec(rule="mes", comparison="satisfaction"))
    comparison = next(s for s in result.steps if isinstance(s, ComparisonStep))
    # Three voters get two projects under greedy instead of one: greedy is kept.
    assert (comparison.prefer_mes, comparison.prefer_greedy, comparison.kept) == (1, 3, "greedy")
    assert set(result.selected) == {"p0", "p1"}


def test_explanation_names_prices_payments_and_keeps_hostile_text_verbatim() -> None:
    election = approvals([30, 25], 40, [[0, 1], [0], [0], [0]])
    text = explain(tally(election, RuleSpec(rule="mes", completion="add1")))
    assert "effective votes" in text and "paid 7.50 each" in text
    assert "Completion (add1)" in text
    assert HOSTILE not in text  # ids, not names, are printed: nothing to escape here


def test_no_voters_means_nothing_is_funded() -> None:
    election = approvals([10], 10, [])
    assert tally(election, RuleSpec(rule="mes", completion="add1")).selected == ()
