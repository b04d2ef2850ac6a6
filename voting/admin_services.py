"""Setting up a round's voting (rules, eligibility, ballot items) and entering paper ballots.

Every change is audit-logged in the same transaction; services take `now` from the caller.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from contests.models import Phase, Round, RoundPot
from contests.services import is_phase_open
from core.audit import record
from core.models import CensusEntry
from voting import ballots
from voting import withdrawal as _withdrawal  # noqa: F401  (registers the census-claim hook)
from voting.forms import VotingSettings
from voting.models import (
    Ballot,
    BallotItem,
    Channel,
    PaperEntry,
    PaperSheet,
    Participation,
    PotVoting,
    RoundVoting,
    SheetStatus,
)
from voting.queries import pot_ballot
from voting.services import Receipt, Voter, VoteRefused, cast_ballot, lock_round


class VotingStarted(Exception):
    """Ballots were cast: the ballot and its rules can no longer change."""


class PaperRefused(Exception):
    """`code`: same_clerk (a second reading needs another clerk), done (already counted,
    voided, or read twice), status (the sheet is not waiting for a decision)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def has_ballots(s: Session, round_id: int) -> bool:
    return s.exec(select(func.count()).select_from(Ballot)
                  .where(Ballot.round_id == round_id)).one() > 0


def _lock_setup(s: Session, round_: Round, now: datetime) -> RoundVoting:
    assert round_.id is not None
    voting = lock_round(s, round_.id)
    if voting is None:
        voting = RoundVoting(round_id=round_.id, updated_at=now)
        s.add(voting)
        s.flush()
    if has_ballots(s, round_.id):
        raise VotingStarted()
    return voting


def save_settings(s: Session, round_: Round, data: VotingSettings, actor_id: int,
                  now: datetime) -> None:
    """Save eligibility, counting rule and each pot's ballot type.
    Raises VotingStarted once any ballot is cast in the round."""
    voting = _lock_setup(s, round_, now)
    voting.verified_only, voting.min_age = data.verified_only, data.min_age
    voting.rule, voting.rule_options, voting.updated_at = data.rule, data.rule_options, now
    s.add(voting)
    for pot_id, pot in data.pots.items():
        setup = s.exec(select(PotVoting).where(PotVoting.pot_id == pot_id)).first()
        setup = setup or PotVoting(round_id=voting.round_id, pot_id=pot_id)
        for name, value in asdict(pot).items():
            setattr(setup, name, value)
        s.add(setup)
    s.flush()
    record(s, actor_id, "voting.settings", "round", voting.round_id, now,
           verified_only=data.verified_only, min_age=data.min_age, rule=data.rule,
           rule_options=data.rule_options,
           pots={str(k): asdict(v) for k, v in data.pots.items()})


def save_items(s: Session, round_: Round, chosen: dict[int, tuple[int, int]], actor_id: int,
               now: datetime) -> None:
    """Make the ballot exactly `chosen` ({idea id: (pot id, cost in som)}).
    Raises VotingStarted once any ballot is cast in the round."""
    voting = _lock_setup(s, round_, now)
    existing = {i.idea_id: i for i in s.exec(select(BallotItem).where(
        BallotItem.round_id == voting.round_id)).all()}
    for idea_id, item in existing.items():
        if idea_id not in chosen:
            s.delete(item)
    for position, (idea_id, (pot_id, cost)) in enumerate(sorted(chosen.items())):
        item = existing.get(idea_id) or BallotItem(round_id=voting.round_id, idea_id=idea_id,
                                                   pot_id=pot_id)
        item.pot_id, item.cost, item.position = pot_id, cost, position
        s.add(item)
    s.flush()
    record(s, actor_id, "voting.items", "round", voting.round_id, now,
           items={str(k): {"pot": p, "cost": c} for k, (p, c) in chosen.items()})


def enter_paper(s: Session, round_: Round, serial: str, clerk_id: int, pot_id: int,
                id_hash: str, marks: ballots.Marks, *, key: bytes, now: datetime
                ) -> tuple[str, Receipt | None]:
    """Record one clerk's reading of a paper ballot. The first reading waits; a second by
    another clerk counts the ballot when both agree (returns "counted" and the receipt) and
    flags the sheet for an admin when they differ ("mismatch"). Raises VoteRefused (voting
    closed, invalid ballot, the person voted online) or PaperRefused."""
    assert round_.id is not None
    lock_census(s, [id_hash])
    lock_round(s, round_.id)
    ballot = pot_ballot(s, round_.id, pot_id)
    if ballot is None:
        raise VoteRefused("not_set_up")
    if not is_phase_open(s, round_, Phase.VOTING, now):  # not even a first reading
        raise VoteRefused("closed")
    problems = ballots.check_ballot(ballot.rules, marks)
    if problems:
        raise VoteRefused("invalid", problems)
    check_paper_voter(s, round_.id, ballot.pot.district_id, id_hash)
    sheet = s.exec(select(PaperSheet).where(PaperSheet.round_id == round_.id,
                                            PaperSheet.serial == serial)).first()
    if sheet is None:
        sheet = PaperSheet(round_id=round_.id, serial=serial, created_at=now)
        s.add(sheet)
        s.flush()
    entries = list(s.exec(select(PaperEntry).where(PaperEntry.sheet_id == sheet.id)).all())
    if sheet.status != SheetStatus.PENDING or len(entries) >= 2:
        raise PaperRefused("done")
    if any(e.clerk_id == clerk_id for e in entries):
        raise PaperRefused("same_clerk")
    content = ballots.dumps(ballot.rules.kind, marks)
    assert sheet.id is not None
    s.add(PaperEntry(sheet_id=sheet.id, clerk_id=clerk_id, pot_id=pot_id, id_hash=id_hash,
                     content=content, entered_at=now))
    s.flush()
    if not entries:
        return SheetStatus.PENDING, None
    first = entries[0]
    if (first.pot_id, first.id_hash, first.content) != (pot_id, id_hash, content):
        sheet.status = SheetStatus.MISMATCH
        s.add(sheet)
        return SheetStatus.MISMATCH, None
    receipt = _count(s, round_, sheet, pot_id, id_hash, marks, key, now)
    return SheetStatus.COUNTED, receipt


def lock_census(s: Session, id_hashes: list[str]) -> None:
    """Lock these census entries (in hash order) before the round: the lock order of a
    census claim too (core/accounts), so a reading and a claim of one ID never deadlock."""
    for id_hash in sorted(set(id_hashes)):
        s.exec(select(CensusEntry.id).where(CensusEntry.id_hash == id_hash)
               .with_for_update()).first()


def check_paper_voter(s: Session, round_id: int, district_id: int | None, id_hash: str) -> None:
    """Raises VoteRefused unless this ID may vote on paper in a pot of `district_id` (None:
    city-wide) and has not voted online. Call with the round locked.

    The round's rule is "census only": the ID hash must be on the census list, in the pot's
    district (any district for the city-wide pot): "not_on_census". The person must not
    have taken part online: neither an online participation carrying this ID hash nor one
    of the account that claimed this census entry (an account verified by an admin, which
    voted online and claimed its census entry afterwards, has no ID hash on its
    participation): "other_channel". The caller locked the census row before the round
    (`lock_census`), so that a claim of the same entry waits for this reading, or this
    reading for the claim."""
    entry = s.exec(select(CensusEntry).where(CensusEntry.id_hash == id_hash)
                   .with_for_update()).first()
    if entry is None or (district_id is not None and entry.district_id != district_id):
        raise VoteRefused("not_on_census")
    same_person = col(Participation.id_hash) == id_hash
    if entry.claimed_by_id is not None:
        same_person = same_person | (col(Participation.person_id) == entry.claimed_by_id)
    online = s.exec(select(Participation).where(
        Participation.round_id == round_id, Participation.channel == Channel.ONLINE,
        same_person)).first()
    if online is not None:
        raise VoteRefused("other_channel")


def _decided(s: Session, sheet: PaperSheet) -> None:
    """A decided sheet keeps no reading: a reading joins an ID hash to ballot content."""
    for reading in s.exec(select(PaperEntry).where(PaperEntry.sheet_id == sheet.id)).all():
        s.delete(reading)
    s.flush()


def _count(s: Session, round_: Round, sheet: PaperSheet, pot_id: int, id_hash: str,
           marks: ballots.Marks, key: bytes, now: datetime) -> Receipt:
    voter = Voter(Channel.PAPER, id_hash=id_hash)
    receipt = cast_ballot(s, round_.id or 0, pot_id, voter, marks, key=key, now=now,
                          replace=False)
    sheet.status, sheet.receipt = SheetStatus.COUNTED, receipt.entry_hash
    s.add(sheet)
    _decided(s, sheet)
    return receipt


def resolve_sheet(s: Session, round_: Round, sheet: PaperSheet, entry_id: int | None,
                  actor_id: int, *, key: bytes, now: datetime) -> Receipt | None:
    """An admin, looking at the paper, counts one reading of a mismatched sheet, or voids it
    (`entry_id` None). Raises PaperRefused("status") unless the sheet is mismatched."""
    assert round_.id is not None
    lock_census(s, list(s.exec(select(PaperEntry.id_hash)
                               .where(PaperEntry.sheet_id == sheet.id)).all()))
    lock_round(s, round_.id)
    s.refresh(sheet)
    if sheet.status != SheetStatus.MISMATCH:
        raise PaperRefused("status")
    receipt = None
    if entry_id is None:
        sheet.status = SheetStatus.VOID
    else:
        entry = s.get(PaperEntry, entry_id)
        if entry is None or entry.sheet_id != sheet.id:
            raise PaperRefused("status")
        pot = s.get(RoundPot, entry.pot_id)
        check_paper_voter(s, round_.id, pot.district_id if pot else None, entry.id_hash)
        receipt = _count(s, round_, sheet, entry.pot_id, entry.id_hash,
                         ballots.loads(entry.content), key, now)
    sheet.resolved_by_id, sheet.resolved_at = actor_id, now
    s.add(sheet)
    _decided(s, sheet)
    record(s, actor_id, "voting.paper_resolve", "paper_sheet", sheet.id or 0, now,
           serial=sheet.serial, outcome=sheet.status, entry_id=entry_id)
    return receipt


@dataclass(frozen=True)
class Reading:
    """What the admin sees of one reading of a mismatched sheet: no ID hash, only whether
    the two readings of the ID number agree (the admin reads the number off the paper)."""

    id: int
    pot_id: int
    content: str
    same_id: bool


def mismatched(s: Session, round_id: int) -> list[tuple[PaperSheet, list[Reading]]]:
    sheets = s.exec(select(PaperSheet).where(PaperSheet.round_id == round_id,
                                             PaperSheet.status == SheetStatus.MISMATCH)
                    .order_by(col(PaperSheet.serial))).all()
    out = []
    for sheet in sheets:
        entries = list(s.exec(select(PaperEntry).where(PaperEntry.sheet_id == sheet.id)
                              .order_by(col(PaperEntry.id))).all())
        same = len({e.id_hash for e in entries}) == 1
        out.append((sheet, [Reading(e.id or 0, e.pot_id, e.content, same) for e in entries]))
    return out
