"""Reading a round's ballots: pots with their projects and rules, and the public log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from contests.models import Phase, RoundPhase, RoundPot
from core.models import District
from ideas.models import Attachment, Idea
from voting import ledger
from voting.ballots import BallotRules
from voting.models import Ballot, BallotItem, BallotLogEntry, PotVoting, RoundVoting
from voting.tally.model import BallotKind


def ballot_rules(setup: Any, budget: int, costs: dict[int, int]) -> BallotRules:
    """The rules of a pot's ballot. `setup`: its PotVoting, or any row with the same fields
    (kind, max_choices, min_choices, points_total, max_points_per_project, min_spend_percent)."""
    return BallotRules(BallotKind(setup.kind), costs, budget, setup.max_choices,
                       setup.min_choices, setup.points_total, setup.max_points_per_project,
                       setup.min_spend_percent)


@dataclass(frozen=True)
class ItemView:
    item: BallotItem
    idea: Idea
    photo: str | None


@dataclass(frozen=True)
class PotBallot:
    """One pot's ballot: its budget, how residents vote in it, and its projects."""

    pot: RoundPot
    setup: PotVoting
    district: District | None
    items: list[ItemView]

    @property
    def rules(self) -> BallotRules:
        return ballot_rules(self.setup, self.pot.budget,
                            {i.item.idea_id: i.item.cost for i in self.items})

    def item(self, idea_id: int) -> ItemView | None:
        return next((i for i in self.items if i.idea.id == idea_id), None)

    def in_ballot_order(self, marks: dict[int, int]) -> list[ItemView]:
        """The projects as the ballot lists them: a ranked ballot shows the resident's ranking
        first, in its order (so "Move up" visibly moves a card), then the other projects."""
        if self.setup.kind != "ordinal":
            return self.items
        ranked = sorted((i for i in self.items if i.idea.id in marks),
                        key=lambda i: marks[i.idea.id or 0])
        return ranked + [i for i in self.items if i.idea.id not in marks]


def round_voting(s: Session, round_id: int) -> RoundVoting | None:
    return s.exec(select(RoundVoting).where(RoundVoting.round_id == round_id)).first()


def pot_ballot(s: Session, round_id: int, pot_id: int) -> PotBallot | None:
    """The pot's ballot, or None when the pot is not in the round or has no ballot type."""
    found = s.exec(select(RoundPot, PotVoting).join(PotVoting, col(PotVoting.pot_id) ==
                                                    RoundPot.id)
                   .where(RoundPot.id == pot_id)).first()
    if found is None or found[0].round_id != round_id:
        return None
    pot, setup = found
    rows = s.exec(select(BallotItem, Idea).join(Idea, col(Idea.id) == BallotItem.idea_id)
                  .where(BallotItem.pot_id == pot_id)
                  .order_by(col(BallotItem.position), col(BallotItem.id))).all()
    photos: dict[int, str] = {}
    ids = [idea.id for _item, idea in rows]
    for a in s.exec(select(Attachment).where(col(Attachment.idea_id).in_(ids),
                                             Attachment.kind == "image")
                    .order_by(col(Attachment.position), col(Attachment.id))).all():
        photos.setdefault(a.idea_id, a.thumb_name or a.stored_name)
    district = s.get(District, pot.district_id) if pot.district_id else None
    items = [ItemView(item, idea, photos.get(idea.id or 0)) for item, idea in rows]
    return PotBallot(pot, setup, district, items)


def pots_of_round(s: Session, round_id: int) -> list[PotBallot]:
    """Every pot of the round that has a ballot, district pots first, city-wide last."""
    pots = s.exec(select(RoundPot).where(RoundPot.round_id == round_id)
                  .order_by(col(RoundPot.district_id).is_(None), col(RoundPot.district_id))).all()
    found = (pot_ballot(s, round_id, p.id) for p in pots if p.id is not None)
    return [b for b in found if b is not None]


def voter_pots(s: Session, round_id: int, district_id: int | None) -> list[PotBallot]:
    """The pots a resident votes in: their own district's and the city-wide pot."""
    return [b for b in pots_of_round(s, round_id)
            if b.pot.district_id is None or b.pot.district_id == district_id]


def log_entries(s: Session, round_id: int) -> list[ledger.Entry]:
    rows = s.exec(select(BallotLogEntry).where(BallotLogEntry.round_id == round_id)
                  .order_by(col(BallotLogEntry.seq))).all()
    return [ledger.Entry(r.seq, ledger.hour_text(r.hour), r.commitment, r.prev_hash,
                         r.entry_hash, r.supersedes) for r in rows]


def log_head(s: Session, round_id: int) -> tuple[int, str]:
    """How many entries the round's log has, and the hash of the last (zeros when empty)."""
    last = s.exec(select(BallotLogEntry).where(BallotLogEntry.round_id == round_id)
                  .order_by(col(BallotLogEntry.seq).desc()).limit(1)).first()
    return (last.seq, last.entry_hash) if last else (0, ledger.GENESIS)


def find_receipt(s: Session, code: str) -> BallotLogEntry | None:
    code = code.strip().lower()
    if len(code) != 64 or any(ch not in "0123456789abcdef" for ch in code):
        return None
    return s.exec(select(BallotLogEntry).where(BallotLogEntry.entry_hash == code)).first()


def is_superseded(s: Session, entry: BallotLogEntry) -> bool:
    """Whether a later ballot of the same voter replaced this entry's ballot. Private while
    voting is open: only the voter's own receipt page, and the log once voting closed, say."""
    if s.exec(select(func.count()).select_from(BallotLogEntry).where(
            BallotLogEntry.round_id == entry.round_id,
            BallotLogEntry.supersedes == entry.seq)).one() > 0:  # a log from before 2027
        return True
    return s.exec(select(func.count()).select_from(Ballot).where(
        Ballot.round_id == entry.round_id, Ballot.log_seq == entry.seq,
        col(Ballot.is_current).is_(None))).one() > 0


def is_withdrawn(s: Session, entry: BallotLogEntry) -> bool:
    """Whether this entry's ballot was withdrawn because the same person's ballot on another
    channel counted first (a withdrawal entry commits to it; see voting/withdrawal.py)."""
    ballot = s.exec(select(Ballot).where(Ballot.round_id == entry.round_id,
                                         Ballot.log_seq == entry.seq)).first()
    if ballot is None or ballot.is_current:
        return False
    mark = ledger.withdrawal_commitment(entry.round_id, ballot.pot_id, entry.seq, ballot.salt)
    return s.exec(select(func.count()).select_from(BallotLogEntry).where(
        BallotLogEntry.round_id == entry.round_id,
        BallotLogEntry.commitment == mark)).one() > 0


def counted_seqs(s: Session, round_id: int) -> set[int]:
    """The log entries whose ballot counts (each voter's latest in each pot)."""
    return set(s.exec(select(Ballot.log_seq).where(Ballot.round_id == round_id,
                                                   col(Ballot.is_current).is_(True))).all())


def voting_closed(s: Session, round_id: int, now: datetime) -> bool:
    """True once the round's voting phase has ended: from then on the log says which of its
    entries count. A round without a voting phase has nothing to close."""
    phase = s.exec(select(RoundPhase).where(RoundPhase.round_id == round_id,
                                            RoundPhase.phase == Phase.VOTING.value)).first()
    return phase is not None and phase.ends_at <= now
