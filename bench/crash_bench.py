"""Crash benchmark: kill -9 the server under a stream of ballots, restart it, and check that
every acknowledged ballot survived and the ballot log still verifies.

    .venv/bin/python bench/crash_bench.py --quick      # CI: 3 kills, 4 residents, under 2 minutes
    .venv/bin/python bench/crash_bench.py              # by hand: 5 kills, 8 residents
    .venv/bin/python bench/crash_bench.py --postgres postgresql://postgres@127.0.0.1/bench_crash \
        --workers 2

A real `shaar serve` process (uvicorn) runs on a loopback port, on a fresh SQLite file or on
the PostgreSQL database given (its public schema is dropped and recreated, so only a database
whose name starts with `bench` or `test` is accepted). Residents sign in over HTTP and cast
ballots in a loop, one thread each; a 303 to /receipts/<code> is an acknowledged ballot and its
receipt is kept. At random moments the server and all its workers get SIGKILL, and it is
started again; the residents carry on with the same cookies once it answers. At the end the
summary says how many ballots were acknowledged, how many of those are in the ballot log (all
must be), how many casts the server died under (those may or may not be stored) and whether
the log verifies, in this process and through `shaar verify-log`.

Mail too: the server sends receipts to a real SMTP server (aiosmtpd, in this process, on a port
in 8110-8119), slowed down by --smtp-delay so that receipts wait in the outbox, committed but
not yet sent, whenever the kill comes. After the last restart the bench waits for the outbox
to empty and checks that every acknowledged ballot's receipt arrived, and exactly once,
counted by receipt code and by Message-ID. A kill just after the SMTP server accepted a mail
and before the server marked it sent resends that mail with the same Message-ID (at least
once, docs/deploy.md); such duplicates are counted and allowed up to one per kill and
worker. Exit status 1 on failure.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.db import make_database, normalise_url  # noqa: E402
from tests.serving import (  # noqa: E402
    AppProcess,
    BallotStream,
    SmtpSink,
    check_survivors,
    outbox_waiting,
    port_in,
    run_shaar,
    server_env,
    wait_for,
)
from tests.voting.factories import make_voter, make_voting_round  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 kills, 4 residents, 2-5 s between kills (CI)")
    parser.add_argument("--kills", type=int, help="how many times to kill -9 (default 5)")
    parser.add_argument("--residents", type=int, help="voting threads (default 8)")
    parser.add_argument("--between", type=float, nargs=2, metavar=("MIN", "MAX"),
                        help="seconds of load between restart and kill (default 4 12)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run on this PostgreSQL database (wiped) instead of SQLite")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (more than 1 needs --postgres)")
    parser.add_argument("--seed", type=int, help="random seed for the kill moments")
    parser.add_argument("--smtp-delay", type=float, default=0.02, metavar="SECONDS",
                        help="how long the SMTP sink takes over each mail (default 0.02)")
    args = parser.parse_args()
    quick = args.quick
    args.kills = args.kills or (3 if quick else 5)
    args.residents = args.residents or (4 if quick else 8)
    args.between = args.between or ((2.0, 5.0) if quick else (4.0, 12.0))
    if args.workers > 1 and not args.postgres:
        parser.error("--workers above 1 needs --postgres: SQLite is for one process")
    return args


def _database_url(args: argparse.Namespace, var: Path) -> str:
    if not args.postgres:
        return f"sqlite:///{var / 'crash.db'}"
    url = normalise_url(args.postgres)
    name = make_url(url).database or ""
    if not name.startswith(("bench", "test")) or name == "test":
        sys.exit(f"refusing to wipe database {name!r}: use one named bench_* or test_*")
    engine = make_database(url).write_engine
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def main() -> int:
    args = _arguments()
    rng = random.Random(args.seed)
    var = Path(tempfile.mkdtemp(prefix="shaar-crash-"))
    url = _database_url(args, var)
    engine_name = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    sink = SmtpSink(port_in(8110, 8119), delay=args.smtp_delay)
    sink.start()
    # A short lease: mail a killed server had claimed is due again soon after the restart.
    # The per-resident cast limit is lifted: the residents here recast in a loop on purpose.
    env = server_env(var, url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port),
                     MAIL_POLL_SECONDS="1", MAIL_LEASE_SECONDS="3", MAIL_RETRY_SECONDS="1",
                     CAST_RATE_LIMIT="1000000/3600")
    migrated = run_shaar(env, "migrate")
    if migrated.returncode != 0:
        print(migrated.stderr, file=sys.stderr)
        return 1
    database = make_database(url)
    setup = make_voting_round(database, kind="approval", max_choices=2)
    emails = [f"crash{n}@example.kg" for n in range(args.residents)]
    for email in emails:
        make_voter(database, email, district=setup.districts[0])
    database.dispose()

    print(f"Crash benchmark{' (quick)' if args.quick else ''}: {engine_name}, "
          f"{args.workers} worker(s), {args.residents} residents, {args.kills} kills with "
          f"kill -9 after {args.between[0]:g}-{args.between[1]:g} s of load each")
    server = AppProcess(env, var / "server.log", workers=args.workers)
    first_start = server.start()
    stream = BallotStream(server.base, setup.round.id, emails,
                          [(setup.pots[None], setup.items[None]),
                           (setup.pots[0], setup.items[0])])
    began = time.monotonic()
    downtime = 0.0
    waiting_at_kills: list[int] = []
    try:
        stream.start()
        # Kills count from the moment ballots flow (signing in takes a while on a busy machine).
        wait_for(lambda: stream.count() >= args.residents, 60)
        began = time.monotonic()
        for kill in range(1, args.kills + 1):
            time.sleep(rng.uniform(*args.between))
            server.kill()
            at, acknowledged = time.monotonic() - began, stream.count()
            waiting, _failed = outbox_waiting(url)  # committed, not yet sent
            waiting_at_kills.append(waiting)
            back = server.start()
            downtime += back
            print(f"  kill {kill} at {at:5.1f} s: {acknowledged:5d} acknowledged so far, "
                  f"{waiting:4d} mails waiting in the outbox; answering again after "
                  f"{back:.1f} s")
        # Load after the last restart too, so the restarted server is shown to take ballots.
        after_last = stream.count()
        wait_for(lambda: stream.count() >= after_last + 10, 15)
        stream.stop()
        elapsed = time.monotonic() - began
        result = check_survivors(url, setup.round.id, stream.acknowledged)
        receipt_ok = True
        if stream.acknowledged:
            import httpx

            code = stream.acknowledged[0]
            page = httpx.get(f"{server.base}/receipts", params={"code": code}, timeout=15)
            receipt_ok = page.status_code == 200 and code in page.text
        cli = run_shaar(env, "verify-log", str(setup.round.id))
        mail_began = time.monotonic()
        # The sink takes --smtp-delay over each mail, so the outbox cannot empty faster than
        # that; give it twice as long, and half a minute more for the deliverer to get going.
        waiting_at_stop = outbox_waiting(url)[0]
        wait_for(lambda: outbox_waiting(url)[0] == 0, 30 + 2 * args.smtp_delay * waiting_at_stop,
                 step=0.2)
        mail_drain = time.monotonic() - mail_began
        left, given_up = outbox_waiting(url)
    finally:
        stream.stop()
        server.stop()
        sink.stop()

    stored_unacknowledged = result.log_entries - result.found
    rate = result.acknowledged / max(elapsed - downtime, 0.001)
    lines = [
        ("acknowledged ballots", f"{result.acknowledged}"),
        ("found after restarts", f"{result.found} of {result.acknowledged}"
                                 + (" (all)" if not result.missing else
                                    f" ({len(result.missing)} LOST)")),
        ("in flight at a kill", f"{stream.in_flight} (never acknowledged; "
                                f"{stored_unacknowledged} of them stored, which is allowed)"),
        ("ballot log", f"{result.log_entries} entries, "
                       + ("verifies" if result.verifies else f"DOES NOT VERIFY: {result.reason}")),
        ("shaar verify-log", cli.stdout.strip() if cli.returncode == 0 else
                             f"FAILED: {cli.stderr.strip()}"),
        ("oldest receipt checkable", "yes" if receipt_ok else "NO"),
        ("other answers", ", ".join(f"{n} x {code}" for code, n in
                                    sorted(stream.refused.items())) or "none"),
        ("time", f"{elapsed:.1f} s, of which {downtime:.1f} s restarting "
                 f"(first start {first_start:.1f} s)"),
        ("throughput while up", f"{rate:.0f} acknowledged ballots/s"),
    ]
    codes = stream.acknowledged
    missing_mail = [c for c in codes if sink.by_code[c] == 0]
    once = sum(1 for c in codes if sink.by_code[c] == 1)
    twice = sum(sink.by_code[c] - 1 for c in codes if sink.by_code[c] > 1)
    duplicates = sum(n - 1 for n in sink.by_id.values() if n > 1)
    # A receipt is mailed under one Message-ID however often it is sent.
    one_id = all(len(sink.codes.get(c, ())) <= 1 for c in codes)
    allowed = args.kills * args.workers
    lines += [
        ("mails waiting at kills", ", ".join(str(n) for n in waiting_at_kills)
                                   + " (committed, not yet sent)"),
        ("receipt mails", f"{sink.count()} received, {len(sink.by_id)} Message-IDs"),
        ("acknowledged, mailed once", f"{once} of {len(codes)}"
                                      + (f"; {len(missing_mail)} NEVER MAILED"
                                         if missing_mail else "")),
        ("mailed again", f"{twice} by receipt code, {duplicates} by Message-ID (allowed "
                         f"up to {allowed}: a kill between SMTP accept and marking sent)"
                         + ("" if one_id else "; A RECEIPT CAME UNDER TWO MESSAGE-IDS")),
        ("outbox after the run", f"{left} waiting, {given_up} given up; "
                                 f"{waiting_at_stop} waiting when the load stopped, emptied "
                                 f"{mail_drain:.1f} s later (the sink takes "
                                 f"{args.smtp_delay:g} s a mail)"),
    ]
    width = max(len(label) for label, _ in lines)
    print()
    for label, value in lines:
        print(f"  {label:<{width}}  {value}")
    ok = (not result.missing and result.verifies and cli.returncode == 0 and receipt_ok
          and stored_unacknowledged <= stream.in_flight and result.acknowledged > 0
          and not missing_mail and one_id and duplicates <= allowed and twice <= allowed
          and left == 0 and given_up == 0)
    print(f"\nRESULT: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
