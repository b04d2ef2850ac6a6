"""Our greedy and MES select exactly what pabutools selects, tie-breaking configured alike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from strategies import approval_elections, points_elections
from tally_helpers import SMALL_FILES, pabulib_file
from tally_oracle import pabutools_outcome

from voting.tally.model import Election
from voting.tally.pabulib import read_pabulib
from voting.tally.rules import RuleSpec, tally
from voting.tally.tiebreak import TieBreak

CHAIN = "min-cost,max-votes,id"
EXAMPLES = settings(max_examples=400, deadline=None, derandomize=True)


def ours(election: Election, rule: str, add1: bool = False) -> set[str]:
    # pabutools' add1 convention: start at exactly budget/voters, stop when exhaustive.
    spec = RuleSpec(
        rule=rule,
        completion="add1" if add1 else "none",
        integral_start=False,
        exhaustive_stop=True,
        tie_break=TieBreak.parse(CHAIN),
    )
    return set(tally(election, spec).selected)


@EXAMPLES
@given(approval_elections())
def test_greedy_on_approval_ballots_matches_pabutools(election: Election) -> None:
    assert ours(election, "greedy") == pabutools_outcome(election, "greedy", tie_break=CHAIN)


@EXAMPLES
@given(points_elections())
def test_greedy_on_points_ballots_matches_pabutools(election: Election) -> None:
    assert ours(election, "greedy") == pabutools_outcome(election, "greedy", tie_break=CHAIN)


@EXAMPLES
@given(approval_elections())
def test_mes_with_cost_utilities_matches_pabutools(election: Election) -> None:
    assert ours(election, "mes") == pabutools_outcome(election, "mes", tie_break=CHAIN)


@EXAMPLES
@given(points_elections())
def test_mes_with_cardinal_utilities_matches_pabutools(election: Election) -> None:
    assert ours(election, "mes") == pabutools_outcome(election, "mes", tie_break=CHAIN)


@EXAMPLES
@given(approval_elections())
def test_mes_add1_on_approval_ballots_matches_pabutools(election: Election) -> None:
    expected = pabutools_outcome(election, "mes", add1=True, tie_break=CHAIN)
    assert ours(election, "mes", add1=True) == expected


@settings(max_examples=300, deadline=None, derandomize=True)
@given(points_elections())
def test_mes_add1_on_points_ballots_matches_pabutools(election: Election) -> None:
    expected = pabutools_outcome(election, "mes", add1=True, tie_break=CHAIN)
    assert ours(election, "mes", add1=True) == expected


@pytest.mark.parametrize("name", SMALL_FILES)
@pytest.mark.parametrize(("rule", "add1"), [("greedy", False), ("mes", False), ("mes", True)])
def test_small_real_files_match_pabutools(name: str, rule: str, add1: bool) -> None:
    election = read_pabulib(pabulib_file(name), keep_votes=False).to_election()
    assert ours(election, rule, add1) == pabutools_outcome(
        election, rule, add1=add1, tie_break=CHAIN
    )
