"""The ballot log's hash chain: commitments, entry hashes and verification.

Pure functions over plain values. ``docs/verify_log.py`` repeats the two hash formulas with
the standard library only; a test keeps the two in step.

    commitment = SHA-256("shaar-ballot|" round "|" pot "|" canonical ballot "|" salt)
    entry_hash = SHA-256(prev_hash "|" round "|" seq "|" commitment "|" hour "|" supersedes)

``prev_hash`` of the first entry is 64 zeros; ``hour`` is ``YYYY-MM-DDTHH:00Z``;
``supersedes`` is empty: the log never says which entry a re-vote replaces (see
docs/privacy.md). Logs written before 2027 may carry the seq of the replaced entry there, and
still verify.

A **withdrawal** entry (one person's ballot on another channel counted first, found out
when they claimed their census entry later) has the same fields; its commitment is
``SHA-256("shaar-withdrawal|" round "|" pot "|" seq of the withdrawn entry "|" that ballot's
salt)``, which only the holder of the stored ballot can link to the entry it withdraws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    """One entry as published."""

    seq: int
    hour: str
    commitment: str
    prev_hash: str
    entry_hash: str
    supersedes: int | None = None


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification. ``bad_seq`` names the first bad entry (by its position
    in the log, counting from 1) and ``reason`` says what is wrong with it."""

    ok: bool
    count: int
    head: str
    bad_seq: int | None = None
    reason: str = ""


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour: the only time the log ever records."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_text(moment: datetime) -> str:
    return hour_of(moment).strftime("%Y-%m-%dT%H:00Z")


def commitment(round_id: int, pot_id: int, content: str, salt: str) -> str:
    text = f"shaar-ballot|{round_id}|{pot_id}|{content}|{salt}"
    return hashlib.sha256(text.encode()).hexdigest()


def withdrawal_commitment(round_id: int, pot_id: int, seq: int, salt: str) -> str:
    text = f"shaar-withdrawal|{round_id}|{pot_id}|{seq}|{salt}"
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(prev_hash: str, round_id: int, seq: int, commitment_: str, hour: str,
               supersedes: int | None) -> str:
    replaced = "" if supersedes is None else str(supersedes)
    text = f"{prev_hash}|{round_id}|{seq}|{commitment_}|{hour}|{replaced}"
    return hashlib.sha256(text.encode()).hexdigest()


def next_entry(round_id: int, previous: Entry | None, commitment_: str, hour: str,
               supersedes: int | None) -> Entry:
    seq = previous.seq + 1 if previous else 1
    prev = previous.entry_hash if previous else GENESIS
    return Entry(seq, hour, commitment_, prev, entry_hash(prev, round_id, seq, commitment_,
                                                          hour, supersedes), supersedes)


def verify(round_id: int, entries: Iterable[Entry]) -> Verdict:
    """Recompute the chain in the order given. Fails at the first entry whose number, link
    to the previous entry, hash, or superseded reference is wrong.

    A chain alone cannot show that entries were cut off its end: compare the head with one
    published earlier (``expected_head``) for that, see :func:`verify_against`.
    """
    prev, count, replaced = GENESIS, 0, set()
    for position, entry in enumerate(entries, start=1):
        reason = ""
        if entry.seq != position:
            reason = f"has number {entry.seq} where {position} was expected"
        elif entry.prev_hash != prev:
            reason = "does not point to the entry before it"
        elif entry_hash(prev, round_id, entry.seq, entry.commitment, entry.hour,
                        entry.supersedes) != entry.entry_hash:
            reason = "does not match its hash (its content was changed)"
        elif entry.supersedes is not None and (
                not 1 <= entry.supersedes < entry.seq or entry.supersedes in replaced):
            reason = "replaces an entry that cannot be replaced"
        if reason:
            return Verdict(False, count, prev, position, f"entry {position} {reason}")
        if entry.supersedes is not None:
            replaced.add(entry.supersedes)
        prev, count = entry.entry_hash, position
    return Verdict(True, count, prev)


def verify_against(round_id: int, entries: Sequence[Entry], expected_head: str) -> Verdict:
    """Verify the chain and that an earlier published head is one of its entries (so nothing
    published was taken away or rewritten)."""
    verdict = verify(round_id, entries)
    if not verdict.ok or not expected_head:
        return verdict
    if all(e.entry_hash != expected_head for e in entries):
        return Verdict(False, verdict.count, verdict.head, verdict.count + 1,
                       "the published head is not in the log: entries were removed or changed")
    return verdict


def superseded(entries: Iterable[Entry]) -> set[int]:
    """Seqs of entries a later entry replaced."""
    return {e.supersedes for e in entries if e.supersedes is not None}
