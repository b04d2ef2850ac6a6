"""Casting ballots: one current ballot per voter and pot, appended to the ballot log in the
same transaction, and the basket (draft) of a ballot being filled in.

Every function here takes the caller's write session (`db(request, write=True)`); nothing is
acknowledged before that session commits. On SQLite the write session began with BEGIN
IMMEDIATE, so casts already take turns; on PostgreSQL each cast locks the round's
`RoundVoting` row (SELECT ... FOR UPDATE), so the log grows one entry at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from dataclasses import replace as _evolve
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, delete, exists, func, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from contests.models import Phase, RoundPhase, RoundPot
from core.db import send_with_commit
from core.models import CensusEntry
from voting import ballots, ledger
from voting.ballots import Marks, Problem
from voting.models import (
    Ballot,
    BallotDraft,
    BallotItem,
    BallotLogEntry,
    Channel,
    Participation,
    PotVoting,
    RoundVoting,
)
from voting.queries import PotBallot, ballot_rules


class VoteRefused(Exception):
    """The ballot was not cast. `code`: closed, not_set_up, not_eligible, not_your_pot,
    other_channel, already_voted, age, invalid (then `problems` says what to fix)."""

    def __init__(self, code: str, problems: list[Problem] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.problems = problems or []


@dataclass(frozen=True)
class Voter:
    """Who casts: an account (online) or a salted ID-number hash (paper)."""

    channel: Channel
    person_id: int | None = None
    id_hash: str | None = None
    district_id: int | None = None
    is_verified: bool = False

    @property
    def identity(self) -> str:
        return f"user:{self.person_id}" if self.channel == Channel.ONLINE else f"id:{self.id_hash}"


@dataclass(frozen=True)
class Receipt:
    entry_hash: str
    seq: int
    hour: datetime
    pot_id: int
    supersedes: int | None


def ballot_key(secret_key: str) -> bytes:
    """The pseudonym key, derived from SECRET_KEY (which must not change during a round)."""
    return hashlib.sha256(f"shaar-ballot-pseudonym|{secret_key}".encode()).digest()


def pseudonym(key: bytes, round_id: int, voter: Voter) -> str:
    return hmac.new(key, f"{round_id}|{voter.identity}".encode(), hashlib.sha256).hexdigest()


def _insert_ignore(s: Session, model: Any, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on either database."""
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    s.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


def lock_round(s: Session, round_id: int) -> RoundVoting | None:
    return s.exec(select(RoundVoting).where(RoundVoting.round_id == round_id)
                  .with_for_update()).first()


def check_voter(voting: Any, district_id: int | None, voter: Voter, age_ok: bool) -> None:
    """Raises VoteRefused unless the voter may vote in this pot (online: verified when the
    round asks, in their district's pot or the city-wide one, old enough). `voting` has the
    round's `verified_only` and `min_age`; `district_id` is the pot's (None: city-wide)."""
    if voter.channel != Channel.ONLINE:
        return
    if voting.verified_only and not voter.is_verified:
        raise VoteRefused("not_eligible")
    if district_id is not None and district_id != voter.district_id:
        raise VoteRefused("not_your_pot")
    if voting.min_age and not age_ok:
        raise VoteRefused("age")


# -- the cast's statements, built once per process ---------------------------------------------
# A cast is the hottest write (issue 13) and, on PostgreSQL, every cast of a round waits for
# the one holding the round lock: so after the lock it reads everything it checks in one
# statement and writes with plain INSERTs, all Core statements built here once (building
# and loading them through the ORM cost more than running them).

_RV, _PH, _CE = RoundVoting.__table__, RoundPhase.__table__, CensusEntry.__table__  # type: ignore[attr-defined]
_RP, _PV, _BI = RoundPot.__table__, PotVoting.__table__, BallotItem.__table__  # type: ignore[attr-defined]
_PA, _BA = Participation.__table__, Ballot.__table__  # type: ignore[attr-defined]
_LOG, _DR = BallotLogEntry.__table__, BallotDraft.__table__  # type: ignore[attr-defined]

_LOCK = (select(_RV.c.verified_only, _RV.c.min_age)
         .where(_RV.c.round_id == bindparam("round_id")).with_for_update())


def _state_statement() -> Any:
    """What a cast checks, read under the round lock in one statement (a fresh snapshot on
    PostgreSQL, taken after the lock was granted, so it sees every cast that held it): the
    pot's rules and projects, whether voting is open now, the voter's census claim, their
    participation, whether a ballot of another person or channel carries the same ID hash,
    their current ballot in the pot, and the head of the round's log. No row: the pot is
    not in the round or has no ballot type."""
    round_id: Any = bindparam("round_id")
    pot_id: Any = bindparam("pot_id")
    person_id: Any = bindparam("person")
    items = (select(func.aggregate_strings(cast(_BI.c.idea_id, String) + ":"
                                           + cast(_BI.c.cost, String), ","))
             .where(_BI.c.pot_id == pot_id).scalar_subquery())
    voting_open = exists().where(_PH.c.round_id == round_id, _PH.c.phase == Phase.VOTING,
                                 _PH.c.starts_at <= bindparam("now"),
                                 _PH.c.ends_at > bindparam("now"))
    claimed = (select(_CE.c.id_hash).where(_CE.c.claimed_by_id == person_id)
               .limit(1).scalar_subquery())
    id_hash = func.coalesce(bindparam("id_hash", type_=String), claimed)
    mine = _PA.c.round_id == round_id, _PA.c.person_id == person_id
    same_id = _PA.c.round_id == round_id, _PA.c.id_hash == id_hash
    elsewhere = or_(_PA.c.channel != bindparam("channel"),
                    _PA.c.person_id.is_distinct_from(person_id))
    current = (select(_BA.c.log_seq)
               .where(_BA.c.round_id == round_id, _BA.c.pot_id == pot_id,
                      _BA.c.pseudonym == bindparam("alias"), _BA.c.is_current.is_(True))
               .scalar_subquery())
    head = select(_LOG).where(_LOG.c.round_id == round_id).order_by(_LOG.c.seq.desc()).limit(1)
    columns = [_RP.c.district_id, _RP.c.budget, _PV.c.kind, _PV.c.max_choices,
               _PV.c.min_choices, _PV.c.points_total, _PV.c.max_points_per_project,
               _PV.c.min_spend_percent, items.label("items"),
               voting_open.label("voting_open"), claimed.label("claimed"),
               select(_PA.c.id).where(*mine).scalar_subquery().label("mine_id"),
               select(_PA.c.id_hash).where(*mine).scalar_subquery().label("mine_hash"),
               exists().where(*same_id).label("same_id"),
               exists().where(*same_id, elsewhere).label("same_id_elsewhere"),
               current.label("current_seq"),
               head.with_only_columns(_LOG.c.seq).scalar_subquery().label("head_seq"),
               head.with_only_columns(_LOG.c.entry_hash).scalar_subquery().label("head_hash")]
    return (select(*columns)
            .select_from(_RP.join(_PV, _PV.c.pot_id == _RP.c.id))
            .where(_RP.c.id == pot_id, _RP.c.round_id == round_id))


_STATE = _state_statement()
# (An UPDATE's parameters must not be named like its columns.)
_SUPERSEDE = (update(_BA).where(_BA.c.round_id == bindparam("round"),
                                _BA.c.pot_id == bindparam("pot"),
                                _BA.c.pseudonym == bindparam("alias"),
                                _BA.c.is_current.is_(True))
              .values(is_current=None, superseded_hour=bindparam("hour")))
_ADD_ID_HASH = (update(_PA).where(_PA.c.id == bindparam("participation"))
                .values(id_hash=bindparam("new_id_hash")))
# Inline: no RETURNING of the new id (nothing reads it), so they can be sent with the commit.
_INSERT_PARTICIPATION, _INSERT_ENTRY, _INSERT_BALLOT = (
    insert(_PA).inline(), insert(_LOG).inline(), insert(_BA).inline())
_DELETE_DRAFT = delete(_DR).where(_DR.c.round_id == bindparam("round_id"),
                                  _DR.c.pot_id == bindparam("pot_id"),
                                  _DR.c.pseudonym == bindparam("alias"))


def _rules(state: Any) -> ballots.BallotRules:
    """The pot's rules from the checks read (its projects come as "idea:cost,...")."""
    pairs = (pair.split(":") for pair in (state.items or "").split(",") if pair)
    return ballot_rules(state, state.budget, {int(idea): int(cost) for idea, cost in pairs})


def _participate(conn: Any, round_id: int, voter: Voter, state: Any, now: datetime) -> None:
    """Record that the voter took part (the checks were made: `state` read it). An online
    voter verified through the census since an earlier cast gets the ID hash added."""
    if voter.person_id is not None and state.mine_id is not None:
        if state.mine_hash is None and voter.id_hash is not None:
            conn.execute(_ADD_ID_HASH, {"participation": state.mine_id,
                                        "new_id_hash": voter.id_hash})
        return
    if voter.person_id is None and state.same_id:
        return
    conn.execute(_INSERT_PARTICIPATION, {"round_id": round_id, "person_id": voter.person_id,
                                         "id_hash": voter.id_hash, "channel": voter.channel,
                                         "at": now})


def cast_ballot(s: Session, round_id: int, pot_id: int, voter: Voter, marks: Marks, *,
                key: bytes, now: datetime, age_ok: bool = True,
                replace: bool = True, last_read: bool = False) -> Receipt:
    """Cast (or, with `replace`, re-cast) the voter's ballot in one pot.

    In the caller's transaction: lock the round, check the voting phase is open and the
    voter may vote, validate the ballot, record participation, mark the voter's earlier
    ballot in this pot superseded, and append one log entry (which does not say that it
    replaces anything). Guarantees: at most one current ballot per voter and pot (also a
    unique constraint), a log without gaps whose every entry covers the previous one, and a
    person taking part through one channel only (known by the salted hash of their ID
    number; for an online voter, from the census entry their account claimed, read under
    the lock, so a claim that committed before it is seen). Raises VoteRefused before it
    writes anything, so the caller's transaction may go on and commit.

    `last_read`: the caller only writes after the cast until it commits, so the cast's
    writes, the caller's and the COMMIT go to PostgreSQL in one round trip
    (`core.db.send_with_commit`). The round lock is held for two round trips, not seven.
    """
    conn = s.connection()
    voting = conn.execute(_LOCK, {"round_id": round_id}).first()
    alias = pseudonym(key, round_id, voter)
    state = None if voting is None else conn.execute(_STATE, {
        "round_id": round_id, "pot_id": pot_id, "person": voter.person_id, "now": now,
        "id_hash": voter.id_hash, "channel": voter.channel, "alias": alias}).first()
    if voting is None or state is None:
        raise VoteRefused("not_set_up")
    if not state.voting_open:
        raise VoteRefused("closed")
    if voter.id_hash is None and state.claimed is not None:
        voter = _evolve(voter, id_hash=state.claimed)
    check_voter(voting, state.district_id, voter, age_ok)
    rules = _rules(state)
    problems = ballots.check_ballot(rules, marks)
    if problems:
        raise VoteRefused("invalid", problems)
    if voter.id_hash is not None and state.same_id_elsewhere:
        raise VoteRefused("other_channel")
    supersedes = state.current_seq
    if supersedes is not None and not replace:
        raise VoteRefused("already_voted")
    # Every check passed: the writes.
    if last_read:
        send_with_commit(s)
    _participate(conn, round_id, voter, state, now)
    hour = ledger.hour_of(now)
    if supersedes is not None:
        conn.execute(_SUPERSEDE, {"round": round_id, "pot": pot_id, "alias": alias,
                                  "hour": hour})
    content = ballots.dumps(rules.kind, marks)
    salt = secrets.token_hex(16)
    commitment = ledger.commitment(round_id, pot_id, content, salt)
    previous = (ledger.Entry(state.head_seq, "", "", "", state.head_hash)
                if state.head_seq is not None else None)
    # The public entry never names the entry it replaces: while voting is open nobody holding
    # a receipt may learn that it no longer counts (re-voting is the defence against pressure).
    # Which ballot counts is kept on the Ballot rows and published when voting closes.
    entry = ledger.next_entry(round_id, previous, commitment, ledger.hour_text(hour), None)
    conn.execute(_INSERT_ENTRY, {"round_id": round_id, "seq": entry.seq,
                                 "prev_hash": entry.prev_hash, "commitment": commitment,
                                 "entry_hash": entry.entry_hash, "hour": hour,
                                 "supersedes": None})
    conn.execute(_INSERT_BALLOT, {"round_id": round_id, "pot_id": pot_id, "pseudonym": alias,
                                  "channel": voter.channel, "content": content, "salt": salt,
                                  "log_seq": entry.seq, "cast_hour": hour, "is_current": True,
                                  "superseded_hour": None})
    if voter.channel == Channel.ONLINE:
        conn.execute(_DELETE_DRAFT, {"round_id": round_id, "pot_id": pot_id, "alias": alias})
    return Receipt(entry.entry_hash, entry.seq, hour, pot_id, supersedes)


def current_ballot(s: Session, round_id: int, pot_id: int, alias: str) -> Ballot | None:
    return s.exec(select(Ballot).where(Ballot.round_id == round_id, Ballot.pot_id == pot_id,
                                       Ballot.pseudonym == alias,
                                       col(Ballot.is_current).is_(True))).first()


def read_draft(s: Session, round_id: int, pot_id: int, alias: str) -> Marks:
    """The basket: the draft if there is one, else the current ballot (to change it)."""
    draft = s.exec(select(BallotDraft).where(BallotDraft.round_id == round_id,
                                             BallotDraft.pot_id == pot_id,
                                             BallotDraft.pseudonym == alias)).first()
    if draft is not None:
        return ballots.loads(draft.content)
    current = current_ballot(s, round_id, pot_id, alias)
    return ballots.loads(current.content) if current else {}


def edit_draft(s: Session, ballot: PotBallot, alias: str, action: str, idea: int,
               points: int, now: datetime) -> tuple[Marks, list[Problem]]:
    """Apply one basket edit under a row lock, so that parallel edits (two tabs) take turns
    and the basket never goes over the budget or the maximum. Returns the basket and the
    problems that made the edit refused ([] when applied)."""
    round_id, pot_id = ballot.pot.round_id, ballot.pot.id
    assert pot_id is not None
    existing = read_draft(s, round_id, pot_id, alias)
    _insert_ignore(s, BallotDraft, {"round_id": round_id, "pot_id": pot_id, "pseudonym": alias,
                                    "content": ballots.dumps(ballot.rules.kind, existing),
                                    "updated_at": now})
    draft = s.exec(select(BallotDraft).where(BallotDraft.round_id == round_id,
                                             BallotDraft.pot_id == pot_id,
                                             BallotDraft.pseudonym == alias)
                   .with_for_update()).one()
    marks, problems = ballots.edit_basket(ballot.rules, ballots.loads(draft.content), action,
                                          idea, points)
    if not problems:
        draft.content, draft.updated_at = ballots.dumps(ballot.rules.kind, marks), now
        s.add(draft)
    return marks, problems
