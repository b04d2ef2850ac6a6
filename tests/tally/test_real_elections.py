"""Running the rule a city named in its file reproduces the projects it funded."""

from __future__ import annotations

import pytest
from tally_helpers import LARGE_FILES, SMALL_FILES, pabulib_file

from voting.tally.pabulib import read_pabulib
from voting.tally.result import ComparisonStep, CompletionStep, GreedyStep
from voting.tally.rules import RuleSpec, tally


@pytest.mark.parametrize("name", SMALL_FILES + LARGE_FILES)
def test_meta_rule_reproduces_the_officially_selected_projects(name: str) -> None:
    pb = read_pabulib(pabulib_file(name), keep_votes=False)
    result = tally(pb.to_election(), RuleSpec.from_meta(pb.meta), explain=False)
    assert sorted(result.selected) == sorted(pb.selected("1"))
    costs = dict(zip(pb.column("project_id"), pb.column("cost"), strict=True))
    assert result.total_cost == sum(int(costs[p]) for p in pb.selected("1"))


def test_wieliczka_needs_add1_without_the_exhaustive_stop() -> None:
    pb = read_pabulib(pabulib_file("Poland_Wieliczka_2023_Green_Budget.pb"), keep_votes=False)
    election = pb.to_election()
    official = tally(election, RuleSpec.from_meta(pb.meta))
    assert len(official.selected) == 30 and official.total_cost == 995_079
    (completion,) = official.steps_of(CompletionStep)
    assert completion.per_voter_budget == 315  # the last per-voter budget that still fits
    (comparison,) = official.steps_of(ComparisonStep)
    assert (comparison.prefer_mes, comparison.prefer_greedy, comparison.kept) == (1615, 873, "mes")

    with_stop = tally(election, RuleSpec.from_meta(pb.meta, exhaustive_stop=True))
    # pabutools' convention stops at the first exhaustive outcome: 31 projects, not the city's.
    assert len(with_stop.selected) == 31 and with_stop.total_cost == 984_579
    assert set(with_stop.selected) - set(official.selected) == {"66", "67"}
    assert set(official.selected) - set(with_stop.selected) == {"46"}


def test_katowice_selected_2_projects_are_outside_what_the_rule_can_explain() -> None:
    """Katowice marks L20/08/XI and L20/09/XI ``selected=2`` (funded for another reason; the
    file gives none). No reading of the rule funds them: their scores are below the 50-point
    threshold, and even without the threshold neither fits in the money the rule leaves."""
    pb = read_pabulib(pabulib_file("Poland_Katowice_2024_Zarzecze.pb"), keep_votes=False)
    election = pb.to_election()
    extra = pb.selected("2")
    assert sorted(extra) == ["L20/08/XI", "L20/09/XI"]
    threshold = int(pb.meta["min_project_score_threshold"])
    for pid in extra:
        assert election.scores[election.index[pid]] < threshold
    result = tally(election, RuleSpec.from_meta(pb.meta))
    left = election.budget - result.total_cost
    assert all(election.project(pid).cost > left for pid in extra)
    without_threshold = tally(election, RuleSpec())
    assert not set(extra) & set(without_threshold.selected)


def test_withdrawn_project_is_never_funded_even_with_the_most_votes() -> None:
    pb = read_pabulib(pabulib_file("Poland_Wroclaw_2017_Rejon_nr_11_750.pb"), keep_votes=False)
    election = pb.to_election()
    withdrawn = election.project("150")
    assert withdrawn.is_withdrawn
    assert max(election.votes) == election.votes[election.index["150"]]
    result = tally(election, RuleSpec.from_meta(pb.meta))
    assert result.selected == ("425",)
    assert result.steps_of(GreedyStep)[0].outcome == "withdrawn"


@pytest.mark.parametrize("name", ["Netherlands_Assen_2024.pb", "Poland_Swiecie_2023.pb"])
@pytest.mark.parametrize("stop", [True, False])
def test_assen_and_swiecie_match_with_either_add1_stopping_convention(
    name: str, stop: bool
) -> None:
    pb = read_pabulib(pabulib_file(name), keep_votes=False)
    spec = RuleSpec.from_meta(pb.meta, exhaustive_stop=stop)
    assert sorted(tally(pb.to_election(), spec).selected) == sorted(pb.selected("1"))
