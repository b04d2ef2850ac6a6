"""Checking a round's ballot log against the database and its public export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from voting import ledger
from voting.models import Ballot
from voting.queries import counted_seqs, log_entries, voting_closed


def verify_round(s: Session, round_id: int, expected_head: str = "") -> ledger.Verdict:
    """Recompute the round's chain, then check every stored ballot against the entry it
    claims: the entry exists, its commitment is the ballot's, and of each voter's ballots in
    a pot exactly the latest is current (and none a log entry names as replaced or a
    withdrawal entry withdraws), and every entry is a stored ballot or a withdrawal. Fails
    naming the first bad entry; never raises on bad data."""
    entries = log_entries(s, round_id)
    verdict = ledger.verify_against(round_id, entries, expected_head)
    if not verdict.ok:
        return verdict
    by_seq = {e.seq: e for e in entries}
    replaced = ledger.superseded(entries)  # links only logs from before 2027 carry
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
    withdrawals = {ledger.withdrawal_commitment(round_id, b.pot_id, b.log_seq, b.salt):
                   b.log_seq for b in stored}
    withdrawn = {withdrawals[e.commitment] for e in entries if e.commitment in withdrawals}
    backed = {b.log_seq for b in stored} | {e.seq for e in entries
                                            if e.commitment in withdrawals}
    for entry in entries:  # every entry is a stored ballot or the withdrawal of one
        if entry.seq not in backed:
            return ledger.Verdict(False, verdict.count, verdict.head, entry.seq,
                                  f"entry {entry.seq} has no stored ballot")
    latest: dict[tuple[int, str], int] = {}
    for ballot in stored:
        latest[(ballot.pot_id, ballot.pseudonym)] = ballot.log_seq
    for ballot in stored:  # then: only each voter's latest ballot counts, unless withdrawn
        seq = ballot.log_seq
        should = (latest[(ballot.pot_id, ballot.pseudonym)] == seq and seq not in replaced
                  and seq not in withdrawn)
        if bool(ballot.is_current) != should:
            state = "marked current" if ballot.is_current else "not counted"
            return ledger.Verdict(False, verdict.count, verdict.head, seq,
                                  f"entry {seq} is {state}, but the voter's latest ballot "
                                  "is the one that counts")
    return verdict


def export(s: Session, round_id: int, now: datetime) -> dict[str, Any]:
    """The public log of a round: no person, no ballot content, hours only.

    While voting is open it lists the entries and nothing else: no entry says which entry it
    replaces or whether it still counts. Once voting has closed it also says, per entry,
    whether its ballot counts (each voter's latest per pot), so anyone can compare the counted
    entries with the published ballots and every voter can check their last receipt."""
    entries = log_entries(s, round_id)
    head = entries[-1].entry_hash if entries else ledger.GENESIS
    closed = voting_closed(s, round_id, now)
    ballots = set(s.exec(select(Ballot.log_seq).where(Ballot.round_id == round_id)).all())
    rows: list[dict[str, Any]] = [
        {"seq": e.seq, "hour": e.hour, "commitment": e.commitment, "prev_hash": e.prev_hash,
         "entry_hash": e.entry_hash, "supersedes": e.supersedes,
         "kind": "ballot" if e.seq in ballots else "withdrawal"} for e in entries]
    data: dict[str, Any] = {"round": round_id, "format": "shaar-ballot-log/1",
                            "count": len(entries), "head": head, "closed": closed}
    if closed:
        counted = counted_seqs(s, round_id)
        for row in rows:
            row["counts"] = row["seq"] in counted
        data["counted"] = len(counted)
    data["entries"] = rows
    return data


def entries_from_export(data: dict[str, Any]) -> list[ledger.Entry]:
    return [ledger.Entry(int(e["seq"]), str(e["hour"]), str(e["commitment"]),
                         str(e["prev_hash"]), str(e["entry_hash"]),
                         None if e.get("supersedes") is None else int(e["supersedes"]))
            for e in data.get("entries", [])]
