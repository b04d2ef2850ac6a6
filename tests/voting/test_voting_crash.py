"""kill -9 under a stream of ballots: every receipt the server acknowledged survives."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from core.db import make_database
from core.settings import ROOT
from tests.conftest import free_port
from tests.helpers import PASSWORD
from tests.voting.factories import make_voter, make_voting_round
from voting.queries import log_entries
from voting.verify import verify_round

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--port",
                                    str(port)], env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(log.read_text())


def _signed_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    token = CSRF.search(client.get("/signin").text).group(1)  # type: ignore[union-attr]
    response = client.post("/signin", data={"email": email, "password": PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 303
    return client


@pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="the crash test runs the server on its own SQLite file")
def test_every_acknowledged_receipt_survives_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    env = {**os.environ, "SHAAR_VAR_DIR": str(tmp_path), "DATABASE_URL": url,
           "SHAAR_ENV": "development", "SECRET_KEY": "crash-test-secret-key-long-enough",
           "PYTHONWARNINGS": "ignore"}
    for name in ("SMTP_HOST", "TEST_DATABASE_URL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "core.cli", "migrate"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    database = make_database(url)
    setup = make_voting_round(database, kind="approval", max_choices=2)
    emails = [f"crash{n}@example.kg" for n in range(4)]
    for email in emails:
        make_voter(database, email, district=setup.districts[0])
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    server = _start(env, port, log)
    acknowledged: list[str] = []
    stop = threading.Event()
    ideas, pot = setup.items[None], setup.pots[None]

    def stream(email: str) -> None:
        client = _signed_in(base, email)
        try:
            _cast_until_stopped(client)
        finally:
            client.close()

    def _cast_until_stopped(client: httpx.Client) -> None:
        token = CSRF.search(client.get(f"/rounds/{setup.round.id}/vote").text).group(1)  # type: ignore[union-attr]
        n = 0
        while not stop.is_set():
            n += 1
            try:
                response = client.post(f"/rounds/{setup.round.id}/vote/{pot}/cast", data={
                    "csrf_token": token, "mark": [f"{ideas[n % 3]}:1"]})
            except httpx.TransportError:
                return  # the server is gone; this cast was never acknowledged
            if response.status_code == 303:
                acknowledged.append(response.headers["location"].rsplit("/", 1)[1])

    threads = [threading.Thread(target=stream, args=(e,)) for e in emails]
    try:
        for t in threads:
            t.start()
        time.sleep(3)
        server.kill()  # SIGKILL: no shutdown, no flush
        server.wait(10)
        stop.set()
        for t in threads:
            t.join(15)
        server = _start(env, port, log)
        assert len(acknowledged) >= 20, "too few casts before the kill to prove anything"
        with database.session() as s:
            verdict = verify_round(s, setup.round.id)
            logged = {e.entry_hash for e in log_entries(s, setup.round.id)}
        assert verdict.ok, verdict.reason
        assert set(acknowledged) <= logged
        check = httpx.get(f"{base}/receipts", params={"code": acknowledged[-1]})
        assert check.status_code == 200 and acknowledged[-1] in check.text
    finally:
        stop.set()
        server.kill()
        server.wait(10)
        database.dispose()
