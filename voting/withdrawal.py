"""One person, one counted ballot, when the link between an account and an ID number comes
late: an account verified without the census voted online, the same ID number voted on
paper (nothing linked the two yet), and then the account claims its census entry.

The rule: the outcome is the one the claim would have given had it come first, i.e. the
channel that counted first wins. The other channel's ballots in the round are withdrawn: each
stops counting and the log gets a withdrawal entry that does not say which entry it withdraws
(see ledger.py), and the two participation records become one (the winning channel's,
carrying the ID hash, so that later casts and readings of either channel are refused as
before). Only while voting is open; once it has closed the count is final and a claim
changes nothing in that round.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from contests.models import Phase, Round
from contests.services import is_phase_open
from core.accounts.services import CensusClaim, on_census_claim
from voting import ledger
from voting.models import Ballot, BallotLogEntry, Channel, Participation, RoundVoting
from voting.services import Voter, ballot_key, lock_round, pseudonym


def _append(s: Session, round_id: int, commitment: str, hour: datetime) -> int:
    last = s.exec(select(BallotLogEntry).where(BallotLogEntry.round_id == round_id)
                  .order_by(col(BallotLogEntry.seq).desc()).limit(1)).first()
    previous = (ledger.Entry(last.seq, "", last.commitment, last.prev_hash, last.entry_hash)
                if last else None)
    entry = ledger.next_entry(round_id, previous, commitment, ledger.hour_text(hour), None)
    s.add(BallotLogEntry(round_id=round_id, seq=entry.seq, prev_hash=entry.prev_hash,
                         commitment=commitment, entry_hash=entry.entry_hash, hour=hour,
                         supersedes=None))
    s.flush()
    return entry.seq


def _first_seq(s: Session, round_id: int, alias: str) -> int | None:
    return s.exec(select(Ballot.log_seq).where(Ballot.round_id == round_id,
                                               Ballot.pseudonym == alias)
                  .order_by(col(Ballot.log_seq)).limit(1)).first()


def withdraw_ballots(s: Session, round_id: int, alias: str, now: datetime) -> int:
    """Withdraw the voter's current ballots in the round (every pot): each stops counting and
    gets a withdrawal entry in the log. Call with the round locked. Returns how many."""
    hour = ledger.hour_of(now)
    current = s.exec(select(Ballot).where(Ballot.round_id == round_id,
                                          Ballot.pseudonym == alias,
                                          col(Ballot.is_current).is_(True))
                     .order_by(col(Ballot.log_seq))).all()
    for ballot in current:
        ballot.is_current, ballot.superseded_hour = None, hour
        s.add(ballot)
        s.flush()
        _append(s, round_id, ledger.withdrawal_commitment(round_id, ballot.pot_id,
                                                          ballot.log_seq, ballot.salt), hour)
    return len(current)


def settle_round(s: Session, round_id: int, user_id: int, id_hash: str, key: bytes,
                 now: datetime) -> str | None:
    """If the account voted online and the ID hash on paper in this round, keep the channel
    that counted first and withdraw the other ("online" or "paper" is returned, else None).
    Call with the round locked and the census entry locked."""
    online = s.exec(select(Participation).where(Participation.round_id == round_id,
                                                Participation.person_id == user_id)).first()
    paper = s.exec(select(Participation).where(Participation.round_id == round_id,
                                               Participation.id_hash == id_hash)).first()
    if online is None or paper is None or online.id == paper.id:
        return None
    if online.channel != Channel.ONLINE or paper.channel != Channel.PAPER:
        return None
    online_alias = pseudonym(key, round_id, Voter(Channel.ONLINE, person_id=user_id))
    paper_alias = pseudonym(key, round_id, Voter(Channel.PAPER, id_hash=id_hash))
    online_first = _first_seq(s, round_id, online_alias)
    paper_first = _first_seq(s, round_id, paper_alias)
    if online_first is None or paper_first is None:
        return None
    if paper_first < online_first:  # paper counted first: the online ballots go
        withdraw_ballots(s, round_id, online_alias, now)
        # The paper record (with the ID hash) stays: the account's later casts meet it.
        s.delete(online)
        s.flush()
        return Channel.ONLINE
    withdraw_ballots(s, round_id, paper_alias, now)
    s.delete(paper)
    s.flush()
    online.id_hash = id_hash
    s.add(online)
    s.flush()
    return Channel.PAPER


@on_census_claim
def settle_census_claim(s: Session, claim: CensusClaim) -> None:
    """Before a census entry is claimed: in every round whose voting is open (locked in
    round order, after the census entry), settle the two channels of this person."""
    key = ballot_key(claim.secret_key)
    round_ids = s.exec(select(RoundVoting.round_id).order_by(col(RoundVoting.round_id))).all()
    for round_id in round_ids:
        round_ = s.get(Round, round_id)
        if round_ is None or not is_phase_open(s, round_, Phase.VOTING, claim.now):
            continue
        lock_round(s, round_id)
        settle_round(s, round_id, claim.user_id, claim.id_hash, key, claim.now)
