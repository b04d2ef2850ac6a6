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

from sqlalchemy import delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from contests.models import Phase, Round
from contests.services import is_phase_open
from core.models import CensusEntry
from voting import ballots, ledger
from voting.ballots import Marks, Problem
from voting.models import (
    Ballot,
    BallotDraft,
    BallotLogEntry,
    Channel,
    Participation,
    RoundVoting,
)
from voting.queries import PotBallot, pot_ballot


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


def check_voter(voting: RoundVoting, ballot: PotBallot, voter: Voter, age_ok: bool) -> None:
    """Raises VoteRefused unless the voter may vote in this pot (online: verified when the
    round asks, in their district's pot or the city-wide one, old enough)."""
    if voter.channel != Channel.ONLINE:
        return
    if voting.verified_only and not voter.is_verified:
        raise VoteRefused("not_eligible")
    district = ballot.pot.district_id
    if district is not None and district != voter.district_id:
        raise VoteRefused("not_your_pot")
    if voting.min_age and not age_ok:
        raise VoteRefused("age")


def _with_census_claim(s: Session, voter: Voter) -> Voter:
    """The voter's ID hash as of now, read under the round lock: the caller built `voter`
    before taking it, and a census claim that committed since must be seen (else the online
    cast records no ID hash and a paper ballot of the same ID can also count)."""
    if voter.channel != Channel.ONLINE or voter.id_hash is not None or voter.person_id is None:
        return voter
    claimed = s.exec(select(CensusEntry.id_hash)
                     .where(CensusEntry.claimed_by_id == voter.person_id)).first()
    return voter if claimed is None else _evolve(voter, id_hash=claimed)


def _participate(s: Session, round_id: int, voter: Voter, now: datetime) -> None:
    """Record that the voter took part; refuse a second channel for the same person (known
    by the salted hash of their ID number, from the census for online voters)."""
    other = None
    if voter.id_hash is not None:
        other = s.exec(select(Participation).where(Participation.round_id == round_id,
                                                   Participation.id_hash == voter.id_hash)
                       ).first()
        if other is not None and (other.channel != voter.channel
                                  or other.person_id != voter.person_id):
            raise VoteRefused("other_channel")
    if voter.person_id is not None:
        mine = s.exec(select(Participation).where(Participation.round_id == round_id,
                                                  Participation.person_id == voter.person_id)
                      ).first()
        if mine is not None:
            if mine.id_hash is None and voter.id_hash is not None:
                mine.id_hash = voter.id_hash  # verified through the census since
                s.add(mine)
                s.flush()
            return
    elif other is not None:
        return
    s.add(Participation(round_id=round_id, person_id=voter.person_id, id_hash=voter.id_hash,
                        channel=voter.channel, at=now))
    s.flush()


def cast_ballot(s: Session, round_: Round, pot_id: int, voter: Voter, marks: Marks, *,
                key: bytes, now: datetime, age_ok: bool = True,
                replace: bool = True, ballot: PotBallot | None = None,
                voting: RoundVoting | None = None) -> Receipt:
    """Cast (or, with `replace`, re-cast) the voter's ballot in one pot.

    In the caller's transaction: lock the round, check the voting phase is open and the
    voter may vote, validate the ballot, record participation, mark the voter's earlier
    ballot in this pot superseded, and append one log entry (which does not say that it
    replaces anything). Guarantees: at most one current
    ballot per voter and pot (also a unique constraint), a log without gaps whose every
    entry covers the previous one. Raises VoteRefused (nothing is written then).

    `voting` and `ballot`: the round's voting row the caller locked with `lock_round` in
    this transaction, and the pot's ballot it read after that (saves a second lock and a
    second load); otherwise both are done here.
    """
    assert round_.id is not None
    if voting is None or voting.round_id != round_.id:
        voting = lock_round(s, round_.id)
    voter = _with_census_claim(s, voter)
    if ballot is None or ballot.pot.id != pot_id or ballot.pot.round_id != round_.id:
        ballot = pot_ballot(s, round_.id, pot_id, for_cast=True)
    if voting is None or ballot is None:
        raise VoteRefused("not_set_up")
    if not is_phase_open(s, round_, Phase.VOTING, now):
        raise VoteRefused("closed")
    check_voter(voting, ballot, voter, age_ok)
    rules = ballot.rules
    problems = ballots.check_ballot(rules, marks)
    if problems:
        raise VoteRefused("invalid", problems)
    _participate(s, round_.id, voter, now)
    alias = pseudonym(key, round_.id, voter)
    hour = ledger.hour_of(now)
    earlier = s.exec(select(Ballot).where(Ballot.round_id == round_.id, Ballot.pot_id == pot_id,
                                          Ballot.pseudonym == alias,
                                          col(Ballot.is_current).is_(True))).first()
    supersedes = None
    if earlier is not None:
        if not replace:
            raise VoteRefused("already_voted")
        earlier.is_current, earlier.superseded_hour = None, hour
        s.add(earlier)
        s.flush()
        supersedes = earlier.log_seq
    content = ballots.dumps(rules.kind, marks)
    salt = secrets.token_hex(16)
    commitment = ledger.commitment(round_.id, pot_id, content, salt)
    last = s.exec(select(BallotLogEntry).where(BallotLogEntry.round_id == round_.id)
                  .order_by(col(BallotLogEntry.seq).desc()).limit(1)).first()
    previous = (ledger.Entry(last.seq, "", last.commitment, last.prev_hash, last.entry_hash)
                if last else None)
    # The public entry never names the entry it replaces: while voting is open nobody holding
    # a receipt may learn that it no longer counts (re-voting is the defence against pressure).
    # Which ballot counts is kept on the Ballot rows and published when voting closes.
    entry = ledger.next_entry(round_.id, previous, commitment, ledger.hour_text(hour), None)
    # Plain INSERTs (no ORM objects to build and flush): the entry, then the ballot.
    s.execute(insert(BallotLogEntry).values(
        round_id=round_.id, seq=entry.seq, prev_hash=entry.prev_hash, commitment=commitment,
        entry_hash=entry.entry_hash, hour=hour, supersedes=None))
    s.execute(insert(Ballot).values(
        round_id=round_.id, pot_id=pot_id, pseudonym=alias, channel=voter.channel,
        content=content, salt=salt, log_seq=entry.seq, cast_hour=hour, is_current=True))
    s.execute(delete(BallotDraft).where(col(BallotDraft.round_id) == round_.id,
                                        col(BallotDraft.pot_id) == pot_id,
                                        col(BallotDraft.pseudonym) == alias))
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
