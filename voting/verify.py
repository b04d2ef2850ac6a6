"""Checking a round's ballot log against the database and its public export."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from voting import ledger
from voting.models import Ballot
from voting.queries import log_entries


def verify_round(s: Session, round_id: int, expected_head: str = "") -> ledger.Verdict:
    """Recompute the round's chain, then check every stored ballot against the entry it
    claims: the entry exists, its commitment is the ballot's, and only the latest ballot of
    a voter is current. Fails naming the first bad entry; never raises on bad data."""
    entries = log_entries(s, round_id)
    verdict = ledger.verify_against(round_id, entries, expected_head)
    if not verdict.ok:
        return verdict
    by_seq = {e.seq: e for e in entries}
    replaced = ledger.superseded(entries)
    stored = s.exec(select(Ballot).where(Ballot.round_id == round_id)
                    .order_by(col(Ballot.log_seq))).all()
    for ballot in stored:  # first: entries taken away, or ballots changed
        entry, seq = by_seq.get(ballot.log_seq), ballot.log_seq
        if entry is None:
            return ledger.Verdict(False, verdict.count, verdict.head, seq,
                                  f"entry {seq} is missing: a stored ballot points to it")
        if ledger.commitment(round_id, ballot.pot_id, ballot.content,
                             ballot.salt) != entry.commitment:
            return ledger.Verdict(False, verdict.count, verdict.head, seq,
                                  f"entry {seq} does not commit to the ballot stored for it")
    for ballot in stored:  # then: which ballot counts must agree with the log
        seq = ballot.log_seq
        if bool(ballot.is_current) == (seq in replaced):
            return ledger.Verdict(False, verdict.count, verdict.head, seq,
                                  f"entry {seq} is marked current and replaced at once")
    return verdict


def export(s: Session, round_id: int) -> dict[str, Any]:
    """The public log of a round: no person, no ballot content, hours only."""
    entries = log_entries(s, round_id)
    replaced = ledger.superseded(entries)
    head = entries[-1].entry_hash if entries else ledger.GENESIS
    return {
        "round": round_id,
        "format": "shaar-ballot-log/1",
        "count": len(entries),
        "head": head,
        "entries": [{"seq": e.seq, "hour": e.hour, "commitment": e.commitment,
                     "prev_hash": e.prev_hash, "entry_hash": e.entry_hash,
                     "supersedes": e.supersedes, "superseded": e.seq in replaced}
                    for e in entries],
    }


def entries_from_export(data: dict[str, Any]) -> list[ledger.Entry]:
    return [ledger.Entry(int(e["seq"]), str(e["hour"]), str(e["commitment"]),
                         str(e["prev_hash"]), str(e["entry_hash"]),
                         None if e.get("supersedes") is None else int(e["supersedes"]))
            for e in data.get("entries", [])]
