"""Two app processes on one database behave as one: nothing that must be shared lives in a
process's memory. Runs on PostgreSQL with TEST_DATABASE_URL, on SQLite (WAL) otherwise.

Each process is a real `shaar serve` (uvicorn) on its own port, with the site's SECRET_KEY,
as `shaar serve --workers N` or several machines behind a proxy would run them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from core.db import Database
from core.settings import ROOT, Settings, SettingsError
from tests.helpers import clear_of_window_edge, make_user
from tests.serving import AppProcess, csrf, receipt_in, server_env, signed_in
from tests.voting.factories import make_voter, make_voting_round
from voting.models import Ballot
from voting.verify import verify_round

SIGNIN_LIMIT = 4


@pytest.fixture(scope="module")
def pair(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Processes A and B on the test database; yields their base URLs."""
    var = tmp_path_factory.mktemp("multiprocess")
    env = server_env(var, migrated, SIGNIN_RATE_LIMIT=f"{SIGNIN_LIMIT}/300")
    a, b = AppProcess(env, var / "a.log"), AppProcess(env, var / "b.log")
    try:
        a.start()
        b.start()
        yield a.base, b.base
    finally:
        a.stop()
        b.stop()


def _on(base: str, other: httpx.Client) -> httpx.Client:
    """A client for process `base` carrying the cookies `other` got from its process."""
    return httpx.Client(base_url=base, cookies=other.cookies, timeout=15)


def test_a_session_started_on_one_process_works_on_the_other_until_signed_out(
        pair: tuple[str, str], database: Database) -> None:
    a_base, b_base = pair
    make_user(database, "both@example.kg")
    with closing(signed_in(a_base, "both@example.kg")) as a, _on(b_base, a) as b:
        page = b.get("/account")
        assert page.status_code == 200 and "both@example.kg" in page.text
        response = a.post("/signout", data={"csrf_token": csrf(a, "/account")})
        assert response.status_code == 303
        after = b.get("/account")
        assert after.status_code == 303
        assert after.headers["location"].startswith("/signin")


def test_failed_sign_ins_split_across_processes_are_counted_together(
        pair: tuple[str, str], database: Database) -> None:
    make_user(database, "target@example.kg")
    clear_of_window_edge(300)
    clients = [httpx.Client(base_url=base, timeout=15) for base in pair]
    statuses = []
    try:
        for n in range(SIGNIN_LIMIT + 2):
            client = clients[n % 2]
            statuses.append(client.post("/signin", data={
                "email": "target@example.kg", "password": "wrong password!",
                "csrf_token": csrf(client, "/signin")}).status_code)
    finally:
        for client in clients:
            client.close()
    assert statuses == [422] * SIGNIN_LIMIT + [429, 429]


def test_a_ballot_cast_on_one_process_and_changed_on_the_other_counts_once(
        pair: tuple[str, str], database: Database) -> None:
    a_base, b_base = pair
    setup = make_voting_round(database, kind="approval", max_choices=2)
    make_voter(database, "voter@example.kg", district=setup.districts[0])
    pot, ideas = setup.pots[None], setup.items[None]
    round_id = setup.round.id
    with closing(signed_in(a_base, "voter@example.kg")) as a, _on(b_base, a) as b:
        token = csrf(a, f"/rounds/{round_id}/vote")  # a form token from A is good on B
        first = receipt_in(a.post(f"/rounds/{round_id}/vote/{pot}/cast",
                                  data={"csrf_token": token, "mark": [f"{ideas[0]}:1"]}))
        second = receipt_in(b.post(f"/rounds/{round_id}/vote/{pot}/cast",
                                   data={"csrf_token": token, "mark": [f"{ideas[1]}:1"]}))
        assert first and second and first != second
        page = a.get(f"/receipts/{second}")
        assert page.status_code == 200 and second in page.text
    with database.session() as s:
        ballots = s.exec(select(Ballot).where(Ballot.round_id == round_id, Ballot.pot_id == pot)
                         .order_by(col(Ballot.log_seq))).all()
        verdict = verify_round(s, round_id)
    assert verdict.ok, verdict.reason
    assert verdict.count == 2
    assert [bool(b.is_current) for b in ballots] == [False, True]  # one counts: the last


_READ_SECRET = """
import sys, time
from pathlib import Path
from core.settings import Settings
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
print(Settings.from_env({"SHAAR_VAR_DIR": sys.argv[1]}).secret_key)
"""


def test_processes_starting_at_once_agree_on_the_generated_development_secret(
        tmp_path: Path) -> None:
    """A development site without SECRET_KEY generates one into var/ on first start; workers
    that start together must all end up with the same one, or their forms and ballot
    pseudonyms would disagree."""
    var = tmp_path / "var"
    for attempt in range(2):  # fresh folders: a race gets more than one chance to show
        folder = var / str(attempt)
        start = time.time() + 1.5
        children = [subprocess.Popen([sys.executable, "-c", _READ_SECRET, str(folder),
                                      str(start)], cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for _ in range(8)]
        outputs = [child.communicate(timeout=60) for child in children]
        assert all(child.returncode == 0 for child in children), [e for _o, e in outputs]
        secrets = {out.strip() for out, _err in outputs}
        assert len(secrets) == 1 and len(secrets.pop()) >= 40
        assert (folder / "secret_key").read_text().strip() == outputs[0][0].strip()
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no temporary left


def test_an_empty_generated_secret_stops_the_start_instead_of_signing_with_no_key(
        tmp_path: Path) -> None:
    """An older version could leave an empty var/secret_key when killed while writing it."""
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(SettingsError, match="secret_key is empty"):
        Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path)})
