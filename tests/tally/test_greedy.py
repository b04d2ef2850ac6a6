"""Greedy by score: the order, skipping, no-skip, thresholds, pots and withdrawn projects."""

from __future__ import annotations

import pytest
from tally_helpers import approvals, cumulative, projects

from voting.tally.greedy import Pots, greedy
from voting.tally.model import WITHDRAWN_COST, approval_election, ordinal_election
from voting.tally.result import GreedyStep
from voting.tally.tiebreak import TieBreak


def test_projects_are_funded_by_votes_and_a_misfit_is_skipped() -> None:
    election = approvals([50, 60, 30], 100, [[0, 1], [0, 1], [1], [1], [2], [0]])
    result = greedy(election)
    assert result.selected == ("p1", "p2")  # p0 (3 votes, 2nd) does not fit in the 40 left
    assert [s.project for s in result.steps_of(GreedyStep)] == ["p1", "p0", "p2"]
    assert [s.outcome for s in result.steps_of(GreedyStep)] == ["selected", "skipped", "selected"]
    assert result.total_cost == 90


def test_no_skip_stops_at_the_first_project_that_does_not_fit() -> None:
    election = approvals([80, 30, 10], 100, [[0], [0], [0], [1], [1], [2]])
    result = greedy(election, skip=False)
    assert result.selected == ("p0",)
    assert [s.outcome for s in result.steps_of(GreedyStep)] == ["selected", "skipped", "stopped"]


def test_projects_below_the_threshold_are_not_eligible() -> None:
    election = approvals([10, 10], 100, [[0], [0], [0], [1]])
    result = greedy(election, threshold=2)
    assert result.selected == ("p0",)
    assert result.steps_of(GreedyStep)[1].outcome == "below-threshold"


def test_points_ballots_are_counted_by_total_points_not_by_supporters() -> None:
    election = cumulative([10, 10], 10, [{0: 1}, {0: 1}, {1: 5}])
    assert greedy(election).selected == ("p1",)


def test_ordinal_ballots_use_positional_points() -> None:
    items = projects(10, 10, 10)
    election = ordinal_election(items, 20, [["p0", "p1", "p2"], ["p2", "p1"]], (3, 2, 1))
    assert election.scores == (3, 4, 4)
    # p1 and p2 tie on 4 points; the lot decides, and p0 comes last.
    assert set(greedy(election, tie_break=TieBreak.parse("id")).selected) == {"p1", "p2"}


def test_withdrawn_project_is_listed_but_never_funded() -> None:
    items = projects(WITHDRAWN_COST, 10)
    election = approval_election(items, 10**10, [["p0"], ["p0"], ["p1"]])
    result = greedy(election)
    assert result.selected == ("p1",)
    assert result.steps_of(GreedyStep)[0].outcome == "withdrawn"


def test_each_pot_spends_only_its_own_budget() -> None:
    election = approvals([40, 40, 30], 100, [[0], [0], [0], [1], [1], [2]])
    pots = Pots({"p0": "north", "p1": "north", "p2": "south"}, {"north": 50, "south": 50})
    result = greedy(election, pots=pots)
    assert result.selected == ("p0", "p2")
    second = result.steps_of(GreedyStep)[1]
    assert second.outcome == "skipped" and second.pot == "north"


def test_a_pot_without_budget_is_an_error() -> None:
    election = approvals([10], 10, [[0]])
    with pytest.raises(ValueError, match="pot 'x' has no budget"):
        greedy(election, pots=Pots({"p0": "x"}, {}))


def test_equal_votes_go_to_the_cheaper_project_by_default() -> None:
    election = approvals([60, 50], 100, [[0], [1]])
    result = greedy(election)
    assert result.selected == ("p1",)
    assert result.tie_break == "min-cost,max-votes,lot:shaar"
