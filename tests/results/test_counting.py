"""Counting a closed round: every pot through the engine, stored, repeatable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from core.db import Database
from core.models import AuditEntry, utcnow
from results import services
from results.models import PotResult, ResultRun
from tests.helpers import set_phase
from tests.results.factories import make_voted_round


def count(database: Database, setup: Any) -> ResultRun:
    with database.session(write=True) as s:
        run = services.count_round(s, setup.round, None, utcnow())
        s.expunge(run)
    return run


def pot_rows(database: Database, run_id: int) -> list[PotResult]:
    with database.session() as s:
        rows = services.pot_results(s, run_id)
        for r in rows:
            s.expunge(r)
    return rows


def test_count_selects_by_the_rounds_rule_in_every_pot(database: Database) -> None:
    setup = make_voted_round(database)
    run = count(database, setup)
    rows = {r.pot_id: r for r in pot_rows(database, run.id or 0)}
    a, b, _c, d = setup.items[0]
    x, _y, z = setup.items[None]
    assert json.loads(rows[setup.pots[0]].selected) == [b, a, d]
    assert json.loads(rows[setup.pots[None]].selected) == [z, x]
    assert rows[setup.pots[0]].voters == 5
    assert rows[setup.pots[None]].voters == 8
    assert json.loads(rows[setup.pots[0]].tallies)[str(a)]["votes"] == 3
    assert run.tie_break == "min-cost,max-votes,lot:shaar" and run.seed == "shaar"
    assert run.engine_version.startswith("shaar ")
    assert run.log_count == 16 and len(run.log_head) == 64
    assert json.loads(run.rule_spec)["rule"] == "greedy"
    # The other rule is recorded next to it.
    assert "equal shares" in rows[setup.pots[0]].other_rule
    with database.session() as s:
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "results.count")).all()
    assert len(audit) == 1


def test_counting_again_gives_the_same_result(database: Database) -> None:
    setup = make_voted_round(database)
    first = pot_rows(database, count(database, setup).id or 0)
    second = pot_rows(database, count(database, setup).id or 0)
    keys = ("pot_id", "selected", "tallies", "steps", "other_selected", "total_cost")
    assert [[getattr(r, k) for k in keys] for r in first] == [
        [getattr(r, k) for k in keys] for r in second]


def test_equal_shares_rule_is_used_when_the_round_says_so(database: Database) -> None:
    setup = make_voted_round(database)
    from voting.models import RoundVoting
    with database.session(write=True) as s:
        voting = s.exec(select(RoundVoting)).one()
        voting.rule = "mes"
        voting.rule_options = json.dumps({"completion": "utilitarian"})
        s.add(voting)
    run = count(database, setup)
    assert "equal shares" in run.rule_text
    rows = pot_rows(database, run.id or 0)
    assert all(r.other_rule.startswith("greedy") for r in rows)
    assert all(json.loads(r.steps)["steps"] for r in rows)


def test_cannot_count_while_voting_is_open_or_after_publication(database: Database) -> None:
    setup = make_voted_round(database)
    set_phase(database, setup.round.id, "voting")
    with pytest.raises(services.ResultsRefused) as refused, \
            database.session(write=True) as s:
        services.count_round(s, setup.round, None, utcnow())
    assert refused.value.code == "voting_open"
    set_phase(database, setup.round.id, "counting")
    run = count(database, setup)
    with database.session(write=True) as s:
        services.publish(s, setup.round, run.id or 0, "Statement", [], None, utcnow())
    with pytest.raises(services.ResultsRefused) as refused, \
            database.session(write=True) as s:
        services.count_round(s, setup.round, None, utcnow())
    assert refused.value.code == "published"


def test_publishing_a_change_needs_a_justification(database: Database) -> None:
    setup = make_voted_round(database)
    run = count(database, setup)
    c = setup.items[0][2]
    change = services.Change(setup.pots[0], c, "add", "  ")
    with pytest.raises(services.ResultsRefused) as refused, \
            database.session(write=True) as s:
        services.publish(s, setup.round, run.id or 0, "Statement", [change], None, utcnow())
    assert refused.value.code == "justification"
    wrong = services.Change(setup.pots[0], setup.items[0][0], "add", "Already won")
    with pytest.raises(services.ResultsRefused) as refused, \
            database.session(write=True) as s:
        services.publish(s, setup.round, run.id or 0, "Statement", [wrong], None, utcnow())
    assert refused.value.code == "bad_change"


@pytest.mark.parametrize("kind", ["knapsack", "cumulative", "ordinal"])
def test_identical_ballots_read_once_count_as_many(kind: str) -> None:
    """Grouping equal ballots (as the count reads them from the database) changes nothing:
    the same voters, scores, selection and steps as one ballot per voter."""
    from results.counting import PotInput, election_of
    from voting.ballots import dumps
    from voting.tally.model import BallotKind
    from voting.tally.rules import RuleSpec, tally

    marks = [{1: 3, 2: 1}, {2: 2}, {1: 3, 2: 1}, {3: 1}, {1: 3, 2: 1}, {2: 2}]
    contents = [dumps(BallotKind(kind), m) for m in marks]
    costs = {1: 400, 2: 300, 3: 500}
    each = election_of(PotInput(BallotKind(kind), 800, costs, 0, contents))
    grouped_contents = sorted(set(contents))
    grouped = election_of(PotInput(BallotKind(kind), 800, costs, 0, grouped_contents,
                                   [contents.count(c) for c in grouped_contents]))
    assert each.profile.num_voters == grouped.profile.num_voters == 6
    assert each.scores == grouped.scores and each.votes == grouped.votes
    spec = RuleSpec(rule="mes", completion="add1")
    assert tally(each, spec).to_dict() == tally(grouped, spec).to_dict()
