#!/usr/bin/env python3
"""Check a Shaar ballot log yourself, with nothing but Python 3.

    python3 verify_log.py log.json [--receipt CODE] [--head HASH]

log.json is the public export of a round (the "Download the log" link on the round's ballot
log page, /rounds/ROUND/log.json). The script recomputes every entry's hash from the entry
before it and stops at the first entry that does not fit. With --receipt it also checks that
your receipt is in the log (and, once voting has closed, whether it counts); with --head,
that a head hash published earlier is still in it.
"""

import argparse
import hashlib
import json
import sys

GENESIS = "0" * 64


def entry_hash(prev_hash, round_id, seq, commitment, hour, supersedes):
    replaced = "" if supersedes is None else str(supersedes)
    text = f"{prev_hash}|{round_id}|{seq}|{commitment}|{hour}|{replaced}"
    return hashlib.sha256(text.encode()).hexdigest()


def check(log):
    """Return (number of good entries, head hash, error or None)."""
    round_id, prev, replaced = log["round"], GENESIS, set()
    for position, e in enumerate(log["entries"], start=1):
        where = f"entry {position}"
        if e["seq"] != position:
            expected = f"where {position} was expected"
            return position - 1, prev, f"{where} has number {e['seq']} {expected}"
        if e["prev_hash"] != prev:
            return position - 1, prev, f"{where} does not point to the entry before it"
        if entry_hash(prev, round_id, e["seq"], e["commitment"], e["hour"],
                      e["supersedes"]) != e["entry_hash"]:
            return position - 1, prev, f"{where} does not match its hash (its content was changed)"
        s = e["supersedes"]
        if s is not None and (not 1 <= s < e["seq"] or s in replaced):
            return position - 1, prev, f"{where} replaces an entry that cannot be replaced"
        if s is not None:
            replaced.add(s)
        prev = e["entry_hash"]
    return len(log["entries"]), prev, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--receipt", default="")
    parser.add_argument("--head", default="")
    args = parser.parse_args()
    with open(args.log, encoding="utf-8") as fh:
        log = json.load(fh)
    count, head, error = check(log)
    if error:
        print(f"NOT OK: {error}")
        return 1
    hashes = {e["entry_hash"] for e in log["entries"]}
    if args.head and args.head.strip().lower() not in hashes:
        print("NOT OK: the published head is not in the log: entries were removed or changed")
        return 1
    if args.receipt:
        code = args.receipt.strip().lower()
        found = next((e for e in log["entries"] if e["entry_hash"] == code), None)
        if found is None:
            print("NOT OK: your receipt is not in the log")
            return 1
        later = any(e["supersedes"] == found["seq"] for e in log["entries"])
        if not log.get("closed"):
            state = " (whether it counts is published when voting closes)"
        elif found.get("counts", not later):
            state = " (it counts)"
        else:
            state = (" (it does not count: a later ballot of the same voter counts, or it was"
                     " withdrawn because the same person's ballot on another channel counts)")
        print(f"your receipt is entry {found['seq']}{state}")
    if log.get("closed"):
        counted = sum(1 for e in log["entries"] if e.get("counts"))
        if counted != log.get("counted", counted):
            print(f"NOT OK: {counted} entries are marked as counting, the log says "
                  f"{log['counted']}")
            return 1
        print(f"voting is closed: {counted} of {count} entries count (compare with the number "
              "of ballots in the published .pb files)")
    print(f"OK: {count} entries, head {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
