"""Counting a round and publishing its results. Services take `now`; every write is audited.
Nothing here is public until `publish` has run (see results/queries.py for who reads what)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from contests.models import Phase, Round, RoundPhase
from core import audit
from results.counting import (
    PotInput,
    election_of,
    engine_version,
    other_spec,
    rule_spec,
    seed_of,
    spec_json,
    tallies_of,
)
from results.models import PotResult, Publication, PublicationChange, ResultRun
from voting import queries as voting_queries
from voting.models import Ballot
from voting.tally.model import BallotKind
from voting.tally.rules import tally


class ResultsRefused(Exception):
    """Counting or publishing is not possible now; `code` names why (see results/routes.py)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Change:
    """A project added to or removed from the computed outcome, with its public reason."""

    pot_id: int
    idea_id: int
    action: str
    justification: str


def is_voting_closed(s: Session, round_id: int, now: datetime) -> bool:
    """True once the voting phase has ended (a round without one never closes)."""
    phase = s.exec(select(RoundPhase).where(RoundPhase.round_id == round_id,
                                            RoundPhase.phase == Phase.VOTING)).first()
    return phase is not None and phase.ends_at <= now


def publication_of(s: Session, round_id: int) -> Publication | None:
    return s.exec(select(Publication).where(Publication.round_id == round_id)).first()


def latest_run(s: Session, round_id: int) -> ResultRun | None:
    return s.exec(select(ResultRun).where(ResultRun.round_id == round_id)
                  .order_by(col(ResultRun.id).desc()).limit(1)).first()


def current_contents(s: Session, round_id: int, pot_id: int) -> list[str]:
    """The current ballots of a pot (online and paper), in a fixed order."""
    return list(s.exec(select(Ballot.content).where(
        Ballot.round_id == round_id, Ballot.pot_id == pot_id,
        col(Ballot.is_current).is_(True)).order_by(col(Ballot.content))).all())


def current_counts(s: Session, round_id: int, pot_id: int) -> list[tuple[str, int]]:
    """Each distinct content of the pot's current ballots with how many say it, in the order
    of `current_contents` (identical ballots are common, so this moves far fewer rows)."""
    rows = s.exec(select(Ballot.content, func.count()).where(
        Ballot.round_id == round_id, Ballot.pot_id == pot_id,
        col(Ballot.is_current).is_(True)).group_by(col(Ballot.content))
        .order_by(col(Ballot.content))).all()
    return [(content, int(n)) for content, n in rows]


def pot_inputs(s: Session, round_id: int) -> list[tuple[int, PotInput]]:
    out = []
    for pb in voting_queries.pots_of_round(s, round_id):
        costs = {i.item.idea_id: i.item.cost for i in pb.items}
        counts = current_counts(s, round_id, pb.pot.id or 0)
        out.append((pb.pot.id or 0, PotInput(BallotKind(pb.setup.kind), pb.pot.budget, costs,
                                             pb.setup.max_choices, [c for c, _n in counts],
                                             [n for _c, n in counts])))
    return out


def count_round(s: Session, round_: Round, actor_id: int | None, now: datetime) -> ResultRun:
    """Count every pot's current ballots with the round's rule and store the run.

    Guarantees: the same ballots and settings give the same selection and steps (the engine
    is deterministic and its tie-break chain is recorded). Raises ResultsRefused when the
    round has no voting, voting is still open, or the results are already published.
    """
    round_id = round_.id or 0
    voting = voting_queries.round_voting(s, round_id)
    if voting is None:
        raise ResultsRefused("no_voting")
    if not is_voting_closed(s, round_id, now):
        raise ResultsRefused("voting_open")
    if publication_of(s, round_id) is not None:
        raise ResultsRefused("published")
    spec = rule_spec(voting.rule, voting.rule_options)
    other = other_spec(spec)
    log_count, head = voting_queries.log_head(s, round_id)
    run = ResultRun(round_id=round_id, engine_version=engine_version(), rule_spec=spec_json(spec),
                    rule_text=spec.describe(), tie_break=str(spec.tie_break),
                    seed=seed_of(spec.tie_break), log_count=log_count, log_head=head,
                    counted_by_id=actor_id, counted_at=now)
    s.add(run)
    s.flush()
    for pot_id, pot in pot_inputs(s, round_id):
        election = election_of(pot)
        result = tally(election, spec)
        alternative = tally(election, other, explain=False)
        s.add(PotResult(run_id=run.id or 0, pot_id=pot_id, budget=pot.budget,
                        voters=election.profile.num_voters, total_cost=int(result.total_cost),
                        selected=json.dumps([int(i) for i in result.selected]),
                        tallies=json.dumps(tallies_of(election), sort_keys=True),
                        steps=json.dumps(result.to_dict(), ensure_ascii=False),
                        other_rule=other.describe(),
                        other_selected=json.dumps([int(i) for i in alternative.selected])))
    audit.record(s, actor_id, "results.count", "round", round_id, now, run=run.id,
                 head=head, entries=log_count)
    s.flush()
    return run


def pot_results(s: Session, run_id: int) -> list[PotResult]:
    return list(s.exec(select(PotResult).where(PotResult.run_id == run_id)
                       .order_by(col(PotResult.id))).all())


def check_changes(s: Session, run: ResultRun, changes: list[Change]) -> None:
    pots = {p.pot_id: p for p in pot_results(s, run.id or 0)}
    for change in changes:
        pot = pots.get(change.pot_id)
        if pot is None or str(change.idea_id) not in json.loads(pot.tallies):
            raise ResultsRefused("unknown_project")
        chosen = change.idea_id in json.loads(pot.selected)
        if change.action not in ("add", "remove") or (change.action == "add") == chosen:
            raise ResultsRefused("bad_change")
        if not change.justification.strip():
            raise ResultsRefused("justification")


def publish(s: Session, round_: Round, run_id: int, statement: str, changes: list[Change],
            actor_id: int | None, now: datetime) -> Publication:
    """Publish the run's outcome with the jury's statement and its public changes.

    Raises ResultsRefused when already published, the run is not the round's latest count,
    the statement is empty, or a change lacks a justification or contradicts the outcome.
    """
    round_id = round_.id or 0
    if publication_of(s, round_id) is not None:
        raise ResultsRefused("published")
    run = latest_run(s, round_id)
    if run is None or run.id != run_id:
        raise ResultsRefused("stale_run")
    if not statement.strip():
        raise ResultsRefused("statement")
    check_changes(s, run, changes)
    publication = Publication(round_id=round_id, run_id=run_id, statement=statement.strip(),
                              published_by_id=actor_id, published_at=now)
    s.add(publication)
    s.flush()
    for c in changes:
        s.add(PublicationChange(publication_id=publication.id or 0, pot_id=c.pot_id,
                                idea_id=c.idea_id, action=c.action,
                                justification=c.justification.strip()))
    audit.record(s, actor_id, "results.publish", "round", round_id, now, run=run_id,
                 changes=[[c.idea_id, c.action] for c in changes])
    s.flush()
    return publication
