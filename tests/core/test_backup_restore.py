"""The backup and restore that docs/deploy.md tells a city to run: pg_dump a database with
ballots, pg_restore it into an empty database, and find the same ballots and a ballot log that
verifies, with the same head. The restored site carries on: a new ballot joins the chain.

Uses two scratch databases on the PostgreSQL server of TEST_DATABASE_URL (or the local one)
and drops them afterwards; skipped without PostgreSQL or its client tools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlmodel import func, select

from core.audit import record
from core.db import make_database, normalise_url
from core.migrate import upgrade
from core.models import AuditEntry, User, utcnow
from ideas.models import Idea
from tests.helpers import HOSTILE
from tests.serving import run_shaar, server_env
from tests.voting.factories import cast_as, make_voter, make_voting_round, online
from voting.models import Ballot, BallotLogEntry
from voting.queries import log_head
from voting.verify import verify_round

TOOLS = ("pg_dump", "pg_restore", "createdb", "dropdb")


def _server() -> URL:
    raw = os.environ.get("TEST_DATABASE_URL", "")
    url = normalise_url(raw if raw.startswith("postgres") else
                        "postgresql://postgres@127.0.0.1:5432/postgres")
    return make_url(url)


def _pg_env(server: URL) -> dict[str, str]:
    env = {**os.environ, "PGHOST": server.host or "127.0.0.1",
           "PGPORT": str(server.port or 5432), "PGUSER": server.username or "postgres"}
    if server.password:
        env["PGPASSWORD"] = server.password
    return env


def _run(env: dict[str, str], *command: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"


@pytest.fixture
def scratch() -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two fresh databases (source and restore target) on the test server."""
    if any(shutil.which(tool) is None for tool in TOOLS):
        pytest.skip("PostgreSQL client tools (pg_dump, pg_restore) are not installed")
    server = _server()
    env = _pg_env(server)
    probe = subprocess.run(["psql", "-d", server.database or "postgres", "-tAc", "SELECT 1"],
                           env=env, capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"no PostgreSQL server at {server.host}:{server.port}")
    names = [f"shaar_backup_{kind}_{os.getpid()}" for kind in ("source", "restored")]
    for name in names:
        subprocess.run(["dropdb", "--if-exists", name], env=env, capture_output=True)
        _run(env, "createdb", name)
    try:
        source, restored = (server.set(database=name).render_as_string(hide_password=False)
                            for name in names)
        yield source, restored, env
    finally:
        for name in names:
            subprocess.run(["dropdb", "--if-exists", "--force", name], env=env,
                           capture_output=True)


def _counts(url: str, round_id: int) -> dict[str, object]:
    database = make_database(url)
    try:
        with database.session() as s:
            verdict = verify_round(s, round_id)
            assert verdict.ok, verdict.reason
            counted = {name: s.exec(select(func.count()).select_from(model)).one()
                       for name, model in (("users", User), ("ideas", Idea),
                                           ("ballots", Ballot), ("audit", AuditEntry),
                                           ("log entries", BallotLogEntry))}
            current = s.exec(select(func.count()).select_from(Ballot)
                             .where(Ballot.is_current == True)).one()  # noqa: E712
            return {**counted, "current ballots": current, "head": log_head(s, round_id)}
    finally:
        database.dispose()


def test_a_restored_backup_has_every_ballot_and_a_log_that_verifies(
        scratch: tuple[str, str, dict[str, str]], tmp_path: Path) -> None:
    source, restored, env = scratch
    upgrade(source)
    database = make_database(source)
    setup = make_voting_round(database, kind="approval", max_choices=2)
    pot, ideas = setup.pots[None], setup.items[None]
    for n in range(6):
        voter = make_voter(database, f"voter{n}@example.kg", district=setup.districts[0])
        cast_as(database, setup.round, pot, online(voter), {ideas[n % 3]: 1})
        if n % 2:  # half of them change their mind: replaced ballots must survive too
            cast_as(database, setup.round, pot, online(voter), {ideas[(n + 1) % 3]: 1})
    with database.session(write=True) as s:
        record(s, None, "backup.test", "round", setup.round.id, utcnow(), note=HOSTILE)
    database.dispose()
    before = _counts(source, setup.round.id)
    assert before["log entries"] == 9 and before["current ballots"] == 6

    dump = tmp_path / "shaar.dump"
    _run(env, "pg_dump", "--format=custom", "--file", str(dump), make_url(source).database)
    _run(env, "pg_restore", "--no-owner", "--exit-on-error", "--dbname",
         make_url(restored).database, str(dump))

    assert _counts(restored, setup.round.id) == before
    shaar = server_env(tmp_path, restored)
    head = before["head"][1]  # type: ignore[index]
    verified = run_shaar(shaar, "verify-log", str(setup.round.id), "--head", head)
    assert verified.returncode == 0, verified.stderr
    assert f"9 entries verify; head {head}" in verified.stdout
    migrated = run_shaar(shaar, "migrate")
    assert migrated.returncode == 0 and "up to date" in migrated.stdout

    # The restored site goes on: its sequences and triggers came back with it.
    database = make_database(restored)
    late = make_voter(database, "late@example.kg", district=setup.districts[0])
    cast_as(database, setup.round, pot, online(late), {ideas[0]: 1})
    with database.session() as s:
        verdict = verify_round(s, setup.round.id)
        with pytest.raises(Exception, match="append-only"):  # the audit log's guard is back
            with database.session(write=True) as w:
                w.execute(text("DELETE FROM auditentry"))
    database.dispose()
    assert verdict.ok and verdict.count == 10
