"""Real app processes for tests and benchmarks: `shaar serve` on a free loopback port, residents
signed in over HTTP, and a stream of ballots that keeps every receipt the server acknowledged.

Used by tests/voting/test_voting_crash.py, tests/core/test_multiprocess.py and
bench/crash_bench.py, so the crash test and the crash benchmark measure the same thing.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.settings import ROOT
from tests.helpers import CSRF_RE, PASSWORD

SHAAR = [sys.executable, "-m", "core.cli"]
SECRET = "serving-secret-key-long-enough-for-tests"
RECEIPT_PREFIX = "/receipts/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(var_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a development server on `database_url`, with a fixed secret
    (every process of one site must share it) and no mail server."""
    env = {**os.environ, "SHAAR_VAR_DIR": str(var_dir), "DATABASE_URL": database_url,
           "SHAAR_ENV": "development", "SECRET_KEY": SECRET, "PYTHONWARNINGS": "ignore"}
    for name in ("SMTP_HOST", "OIDC_PROVIDERS", "TEST_DATABASE_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def run_shaar(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `shaar` command to completion and return what it printed."""
    return subprocess.run([*SHAAR, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


class AppProcess:
    """`shaar serve` in a session of its own, so kill() reaches every worker at once."""

    def __init__(self, env: dict[str, str], log: Path, *, port: int | None = None,
                 workers: int = 1) -> None:
        self.env, self.log, self.workers = env, log, workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> float:
        """Start the server and wait until /healthz answers; return how long that took."""
        began = time.monotonic()
        with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [*SHAAR, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                break
            try:
                # A long read timeout: on a busy machine /healthz waits behind the ballots
                # of residents who reconnected first.
                if httpx.get(f"{self.base}/healthz", timeout=15).status_code == 200:
                    return time.monotonic() - began
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not start:\n{self.log.read_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown, no flush."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM to the server, which stops its workers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


def csrf(client: httpx.Client, path: str) -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def signed_in(base: str, email: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP client (cookies kept) signed in as `email`."""
    client = httpx.Client(base_url=base, timeout=15)
    response = client.post("/signin", data={"email": email, "password": password,
                                            "csrf_token": csrf(client, "/signin")})
    assert response.status_code == 303, response.text[:2000]
    return client


def receipt_in(response: httpx.Response) -> str | None:
    """The receipt a successful cast redirects to, or None."""
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith(RECEIPT_PREFIX):
        return location[len(RECEIPT_PREFIX):]
    return None


@dataclass
class BallotStream:
    """Residents casting ballots over HTTP, one thread each, until stop().

    Each cast is a POST of the review form; a 303 to /receipts/<code> is an acknowledged
    ballot and its receipt is kept. A request that got no answer because the server died
    under it is counted as in flight: it may or may not have been stored. While the server
    is down the residents keep trying, with the same cookies, until it is back.
    """

    base: str
    round_id: int
    emails: list[str]
    pots: list[tuple[int, list[int]]]  # (pot id, its idea ids): each resident votes in all
    acknowledged: list[str] = field(default_factory=list)
    in_flight: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for email in self.emails:
            thread = threading.Thread(target=self._vote, args=(email,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def _vote(self, email: str) -> None:
        client: httpx.Client | None = None
        token = ""
        n = 0
        while not self._stop.is_set():
            if client is None:
                try:
                    client = signed_in(self.base, email)
                    token = csrf(client, f"/rounds/{self.round_id}/vote")
                except httpx.TransportError:
                    if client is not None:
                        client.close()
                    client = None
                    time.sleep(0.05)
                    continue
            n += 1
            pot, ideas = self.pots[n % len(self.pots)]
            marks = [f"{ideas[n % len(ideas)]}:1"]
            try:
                response = client.post(f"/rounds/{self.round_id}/vote/{pot}/cast",
                                       data={"csrf_token": token, "mark": marks})
            except (httpx.ConnectError, httpx.ConnectTimeout):
                time.sleep(0.05)  # the server is down; nothing was sent
                continue
            except httpx.TransportError:
                with self._lock:  # sent, but the server died before it answered
                    self.in_flight += 1
                continue
            receipt = receipt_in(response)
            with self._lock:
                if receipt:
                    self.acknowledged.append(receipt)
                else:
                    self.refused[response.status_code] += 1
        if client is not None:
            client.close()


def wait_for(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


@dataclass(frozen=True)
class Survivors:
    """What the database holds after the crashes, against what the server acknowledged."""

    acknowledged: int
    missing: list[str]  # acknowledged receipts that are not in the ballot log
    log_entries: int
    verifies: bool
    reason: str

    @property
    def found(self) -> int:
        return self.acknowledged - len(self.missing)


def check_survivors(database_url: str, round_id: int, acknowledged: list[str]) -> Survivors:
    """Every acknowledged receipt must be in the round's ballot log, and the log must verify
    (chain, commitments, one current ballot per voter), as `shaar verify-log` checks it."""
    from core.db import make_database
    from voting.queries import log_entries
    from voting.verify import verify_round

    database = make_database(database_url)
    try:
        with database.session() as s:
            verdict = verify_round(s, round_id)
            logged = {e.entry_hash for e in log_entries(s, round_id)}
    finally:
        database.dispose()
    missing = [r for r in acknowledged if r not in logged]
    return Survivors(len(acknowledged), missing, len(logged), verdict.ok, verdict.reason)


RECEIPT_CODE_RE = re.compile(r"\b[0-9a-f]{64}\b")


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that counts what it accepts, by Message-ID
    and by the receipt codes in the bodies. `delay` slows each message down, so a backlog
    waits in the outbox when the server is killed."""

    def __init__(self, port: int, delay: float = 0.0) -> None:
        self.port, self.delay = port, delay
        self.by_id: Counter[str] = Counter()
        self.codes: dict[str, set[str]] = {}  # receipt code -> Message-IDs that carried it
        self.by_code: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)  # before DATA: a kill now leaves nothing here
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        message_id = str(message["Message-ID"])
        codes = set(RECEIPT_CODE_RE.findall(str(message.get_content())))
        with self._lock:
            self.by_id[message_id] += 1
            for code in codes:
                self.by_code[code] += 1
                self.codes.setdefault(code, set()).add(message_id)
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return sum(self.by_id.values())

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def port_in(first: int, last: int) -> int:
    """The first loopback port in [first, last] that nobody listens on."""
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def outbox_waiting(database_url: str) -> tuple[int, int]:
    """(mails not yet sent and not given up, mails given up) in the outbox."""
    from sqlmodel import col, func, select

    from core.db import make_database
    from core.models import MailOutbox

    database = make_database(database_url)
    try:
        with database.session() as s:
            waiting = s.exec(select(func.count()).select_from(MailOutbox).where(
                col(MailOutbox.sent_at).is_(None), col(MailOutbox.failed_at).is_(None))).one()
            failed = s.exec(select(func.count()).select_from(MailOutbox).where(
                col(MailOutbox.failed_at).is_not(None))).one()
    finally:
        database.dispose()
    return int(waiting), int(failed)
