"""Properties every outcome must have, on thousands of small random elections."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import any_elections, approval_elections

from voting.tally.mes import run_mes
from voting.tally.mes_exact import ExactMes, MesData
from voting.tally.model import Election, approval_election
from voting.tally.result import GreedyStep, MesStep, Result
from voting.tally.rules import RuleSpec, tally
from voting.tally.tiebreak import TieBreak

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True)

SPECS = st.sampled_from(
    [
        RuleSpec(),
        RuleSpec(skip=False),
        RuleSpec(threshold=2),
        RuleSpec(rule="mes"),
        RuleSpec(rule="mes", completion="add1"),
        RuleSpec(rule="mes", completion="add1", exhaustive_stop=False, comparison="satisfaction"),
        RuleSpec(rule="mes", completion="add1u", increment=Fraction(1, 2)),
        RuleSpec(rule="mes", completion="utilitarian", comparison="exclusion"),
        RuleSpec(rule="mes", completion="add1", integral_start=False),
    ]
)


def is_exhaustive(election: Election, result: Result) -> bool:
    left = election.budget - result.total_cost
    return all(
        p.id in result.selected or p.cost > left or p.is_withdrawn for p in election.projects
    )


@EXAMPLES
@given(any_elections, SPECS)
def test_outcome_never_exceeds_the_budget(election: Election, spec: RuleSpec) -> None:
    result = tally(election, spec)
    assert result.total_cost <= election.budget
    assert result.total_cost == sum(election.project(p).cost for p in result.selected)
    assert len(set(result.selected)) == len(result.selected)


@EXAMPLES
@given(any_elections, SPECS, st.randoms(use_true_random=False))
def test_outcome_does_not_depend_on_ballot_or_project_order(
    election: Election, spec: RuleSpec, rnd: random.Random
) -> None:
    first = tally(election, spec)
    assert tally(election, spec) == first
    prof = election.profile
    groups = [
        ([election.projects[p].id for p in prof.ballot(g)], int(prof.weights[g]))
        for g in range(prof.num_groups)
    ]
    if not prof.kind.is_approval:
        return
    rnd.shuffle(groups)
    shuffled_projects = list(election.projects)
    rnd.shuffle(shuffled_projects)
    again = approval_election(
        shuffled_projects, election.budget, [b for b, _ in groups], [w for _, w in groups]
    )
    assert tally(again, spec).selected == first.selected


@EXAMPLES
@given(any_elections, st.sampled_from(["greedy", "add1u", "utilitarian"]))
def test_rules_that_promise_exhaustiveness_leave_nothing_that_fits(
    election: Election, which: str
) -> None:
    spec = RuleSpec() if which == "greedy" else RuleSpec(rule="mes", completion=which)
    assert is_exhaustive(election, tally(election, spec))


@EXAMPLES
@given(any_elections, SPECS)
def test_explanation_arithmetic_adds_up(election: Election, spec: RuleSpec) -> None:
    result = tally(election, spec)
    remaining = election.budget
    for step in result.steps:
        if isinstance(step, MesStep):
            assert sum(p.total for p in step.payments) == step.cost
            for payment in step.payments:
                if payment.each is not None:
                    assert payment.each * payment.voters == payment.total
            paying = sum(p.voters for p in step.payments)
            assert paying <= step.votes
            if step.cost:
                assert step.effective_votes * step.price == step.cost
        if isinstance(step, GreedyStep) and step.outcome == "selected" and spec.rule == "greedy":
            remaining -= step.cost
            assert step.remaining == remaining
    if spec.rule == "greedy":
        assert remaining == election.budget - result.total_cost


def exact_only_mes(data: MesData, per_voter: Fraction, ranks: list[int]) -> list[int]:
    """Reference MES: every round prices every project exactly and takes the cheapest."""
    exact = ExactMes(data, per_voter)
    chosen = sorted(data.free, key=ranks.__getitem__)
    for p in chosen:
        exact.select(p)
    left = set(data.eligible)
    while True:
        prices = {p: exact.rho(p) for p in left}
        affordable = {p: r for p, r in prices.items() if r is not None}
        if not affordable:
            return chosen
        best = min(affordable.values())
        winner = min((p for p, r in affordable.items() if r == best), key=ranks.__getitem__)
        exact.select(winner)
        chosen.append(winner)
        left = set(affordable) - {winner}


@settings(max_examples=600, deadline=None, derandomize=True)
@given(any_elections, st.sampled_from(["min-cost,max-votes,lot:7", "max-cost,id", "lot:x"]))
def test_float_search_decides_every_round_as_exact_arithmetic_would(
    election: Election, chain: str
) -> None:
    data = MesData.build(election)
    ranks = TieBreak.parse(chain).ranks(election)
    voters = election.profile.num_voters
    for per_voter in {
        Fraction(election.budget, max(voters, 1)),
        Fraction(election.budget // 3 + 1),
    }:
        assert run_mes(data, per_voter, ranks).selected == exact_only_mes(data, per_voter, ranks)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(approval_elections(max_projects=4, max_groups=4))
def test_every_voter_pays_at_most_their_share(election: Election) -> None:
    data = MesData.build(election)
    voters = election.profile.num_voters
    if voters == 0:
        return
    share = Fraction(election.budget, voters)
    run = run_mes(data, share, TieBreak().ranks(election))
    exact = ExactMes(data, share)
    for p in run.selected:
        exact.select(p)
    for group in range(election.profile.num_groups):
        assert 0 <= exact.budget(group) <= share
