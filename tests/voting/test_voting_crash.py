"""kill -9 under a stream of ballots: every receipt the server acknowledged survives, and
its receipt mail, waiting in the outbox, arrives after the restart.

bench/crash_bench.py runs the same stream with more residents and several kills.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from core.db import make_database
from tests.serving import (
    AppProcess,
    BallotStream,
    SmtpSink,
    check_survivors,
    free_port,
    outbox_waiting,
    run_shaar,
    server_env,
    wait_for,
)
from tests.voting.factories import make_voter, make_voting_round


@pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="the crash test runs the server on its own SQLite file")
def test_every_acknowledged_receipt_survives_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    sink = SmtpSink(free_port(), delay=0.02)  # slow: receipts wait in the outbox at the kill
    sink.start()
    env = server_env(tmp_path, url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port),
                     MAIL_POLL_SECONDS="1", MAIL_LEASE_SECONDS="2")
    assert run_shaar(env, "migrate").returncode == 0
    database = make_database(url)
    setup = make_voting_round(database, kind="approval", max_choices=2)
    emails = [f"crash{n}@example.kg" for n in range(4)]
    for email in emails:
        make_voter(database, email, district=setup.districts[0])
    database.dispose()
    server = AppProcess(env, tmp_path / "server.log")
    server.start()
    stream = BallotStream(server.base, setup.round.id, emails,
                          [(setup.pots[None], setup.items[None]),
                           (setup.pots[0], setup.items[0])])
    try:
        stream.start()
        assert wait_for(lambda: stream.count() >= 20, 30), "too few casts before the kill"
        server.kill()  # SIGKILL: no shutdown, no flush
        before_kill = stream.count()
        server.start()
        # The residents carry on against the restarted server with the same cookies.
        assert wait_for(lambda: stream.count() >= before_kill + 10, 30)
        stream.stop()
        result = check_survivors(url, setup.round.id, stream.acknowledged)
        assert result.verifies, result.reason
        assert result.missing == []
        # Casts the server died under may or may not be stored, but nothing else is.
        assert result.log_entries <= result.acknowledged + stream.in_flight
        assert not stream.refused, stream.refused
        check = httpx.get(f"{server.base}/receipts",
                          params={"code": stream.acknowledged[before_kill - 1]})
        assert check.status_code == 200
        assert stream.acknowledged[before_kill - 1] in check.text
        verified = run_shaar(env, "verify-log", str(setup.round.id))
        assert verified.returncode == 0, verified.stderr
        assert f"{result.log_entries} entries verify" in verified.stdout
        # Every acknowledged receipt is mailed, under one Message-ID; at most one mail is
        # sent twice (accepted by the SMTP server just before the kill, not yet marked sent).
        assert wait_for(lambda: outbox_waiting(url) == (0, 0), 30), outbox_waiting(url)
        assert [c for c in stream.acknowledged if sink.by_code[c] == 0] == []
        assert all(len(sink.codes[c]) == 1 for c in stream.acknowledged)
        assert sum(n - 1 for n in sink.by_id.values()) <= 1
    finally:
        stream.stop()
        server.kill()
        sink.stop()
