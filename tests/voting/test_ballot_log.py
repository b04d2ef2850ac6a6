"""The ballot log: every receipt is in it, and changing, deleting or reordering any entry
(or any stored ballot) makes verification fail naming the first bad entry."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from core.cli import main
from core.models import utcnow
from core.settings import ROOT
from tests.voting.factories import cast_as, make_voter, make_voting_round, online
from voting import ledger
from voting.verify import export, verify_round

ENTRIES = 6


@pytest.fixture
def voted(database, monkeypatch):
    """Six log entries: three voters, each casting, two of them re-voting."""
    setup = make_voting_round(database, kind="approval")
    voters = [online(make_voter(database, f"v{n}@example.kg", district=setup.districts[0]))
              for n in range(3)]
    ideas, receipts = setup.items[None], []
    for n in (0, 1, 2, 0, 1, 0):
        receipts.append(cast_as(database, setup.round, setup.pots[None], voters[n],
                                {ideas[n % 3]: 1, ideas[(n + 1) % 3]: 1}).entry_hash)
    monkeypatch.setenv("DATABASE_URL", database.write_engine.url.render_as_string(False))
    return setup, receipts


def _verify(database, round_id):
    with database.session() as s:
        return verify_round(s, round_id)


def _cli(round_id, *args):
    return CliRunner().invoke(main, ["verify-log", str(round_id), *args])


def test_the_log_verifies_and_holds_every_receipt(voted, database) -> None:
    setup, receipts = voted
    verdict = _verify(database, setup.round.id)
    assert verdict.ok and verdict.count == ENTRIES and verdict.head == receipts[-1]
    result = _cli(setup.round.id, "--receipt", receipts[0], "--head", receipts[2])
    assert result.exit_code == 0, result.output
    assert f"{ENTRIES} entries verify" in result.output


@pytest.mark.parametrize("seq", range(1, ENTRIES + 1))
@pytest.mark.parametrize("column", ["commitment", "hour", "supersedes", "prev_hash"])
def test_changing_any_entry_is_found(voted, database, seq, column) -> None:
    setup, _receipts = voted
    value = {"commitment": "'" + "a" * 64 + "'", "prev_hash": "'" + "b" * 64 + "'",
             "hour": "hour", "supersedes": "NULL"}[column]
    if column == "hour":
        value = "'2000-01-01 00:00:00.000000'" if database.write_engine.dialect.name == \
            "sqlite" else "'2000-01-01 00:00:00+00'"
    with database.write_engine.begin() as conn:
        before = conn.execute(text("SELECT supersedes FROM ballotlogentry WHERE seq = :s"),
                              {"s": seq}).scalar()
        if column == "supersedes" and before is None:
            value = "1" if seq > 1 else "NULL"
        conn.execute(text(f"UPDATE ballotlogentry SET {column} = {value} WHERE seq = :s"),
                     {"s": seq})
    verdict = _verify(database, setup.round.id)
    if column == "supersedes" and seq == 1:
        assert verdict.ok  # nothing to change: the first entry replaces nothing
        return
    assert not verdict.ok and verdict.bad_seq == seq, verdict
    result = _cli(setup.round.id)
    assert result.exit_code == 1 and f"entry {seq} " in result.output


@pytest.mark.parametrize("seq", range(1, ENTRIES + 1))
def test_deleting_any_entry_is_found(voted, database, seq) -> None:
    setup, _receipts = voted
    with database.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM ballotlogentry WHERE seq = :s"), {"s": seq})
    verdict = _verify(database, setup.round.id)
    assert not verdict.ok and verdict.bad_seq == seq, verdict
    assert f"entry {seq} " in _cli(setup.round.id).output


@pytest.mark.parametrize("seq", range(1, ENTRIES))
def test_swapping_two_neighbouring_entries_is_found(voted, database, seq) -> None:
    setup, _receipts = voted
    with database.write_engine.begin() as conn:
        conn.execute(text("UPDATE ballotlogentry SET seq = 1000 WHERE seq = :a"), {"a": seq})
        conn.execute(text("UPDATE ballotlogentry SET seq = :a WHERE seq = :b"),
                     {"a": seq, "b": seq + 1})
        conn.execute(text("UPDATE ballotlogentry SET seq = :b WHERE seq = 1000"), {"b": seq + 1})
    verdict = _verify(database, setup.round.id)
    assert not verdict.ok and verdict.bad_seq == seq, verdict


def test_changing_a_stored_ballot_is_found(voted, database) -> None:
    setup, _receipts = voted
    with database.write_engine.begin() as conn:
        seq = conn.execute(text("SELECT min(log_seq) FROM ballot WHERE is_current")).scalar()
        conn.execute(text("UPDATE ballot SET content = '{}' WHERE log_seq = :s"), {"s": seq})
    verdict = _verify(database, setup.round.id)
    assert not verdict.ok and verdict.bad_seq == seq
    assert "does not commit to the ballot" in verdict.reason


def test_cutting_off_the_end_is_found_against_a_published_head(voted, database) -> None:
    setup, receipts = voted
    with database.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM ballot WHERE log_seq = :s"), {"s": ENTRIES})
        conn.execute(text("UPDATE ballot SET is_current = TRUE WHERE log_seq = 4"))
        conn.execute(text("DELETE FROM ballotlogentry WHERE seq = :s"), {"s": ENTRIES})
    assert _cli(setup.round.id).exit_code == 0  # a shorter chain is still a chain ...
    result = _cli(setup.round.id, "--head", receipts[-1])  # ... but not the one published
    assert result.exit_code == 1 and "published head is not in the log" in result.output


def test_the_standalone_script_agrees_with_the_export(voted, database, tmp_path) -> None:
    setup, receipts = voted
    with database.session() as s:
        during = export(s, setup.round.id, utcnow())
        data = export(s, setup.round.id, utcnow() + timedelta(days=3650))
    # While voting is open the log says nothing of which entry counts; once closed, it does.
    assert during["closed"] is False and all("counts" not in e for e in during["entries"])
    assert all(e["supersedes"] is None for e in during["entries"])
    assert data["closed"] is True and data["counted"] == 3
    assert [e["counts"] for e in data["entries"]] == [False, False, True, False, True, True]
    open_path = tmp_path / "open.json"
    open_path.write_text(json.dumps(during))
    early = subprocess.run([sys.executable, str(ROOT / "docs" / "verify_log.py"), str(open_path),
                            "--receipt", receipts[0]], capture_output=True, text=True)
    assert early.returncode == 0 and "published when voting closes" in early.stdout
    path = tmp_path / "log.json"
    path.write_text(json.dumps(data))
    script = [sys.executable, str(ROOT / "docs" / "verify_log.py"), str(path)]
    good = subprocess.run([*script, "--receipt", receipts[0]], capture_output=True, text=True)
    assert good.returncode == 0 and "OK: 6 entries" in good.stdout
    assert "it does not count: a later ballot" in good.stdout
    assert _cli(setup.round.id, "--file", str(path)).exit_code == 0
    data["entries"][2]["commitment"] = "c" * 64
    path.write_text(json.dumps(data))
    bad = subprocess.run(script, capture_output=True, text=True)
    assert bad.returncode == 1 and "entry 3 does not match its hash" in bad.stdout
    assert "entry 3 " in _cli(setup.round.id, "--file", str(path)).output


def test_the_script_and_the_app_hash_entries_the_same_way() -> None:
    namespace: dict[str, object] = {}
    exec(compile((ROOT / "docs" / "verify_log.py").read_text(), "verify_log", "exec"),
         namespace)
    script_hash = namespace["entry_hash"]
    for supersedes in (None, 3):
        args = ("f" * 64, 7, 9, "e" * 64, "2027-03-01T10:00Z", supersedes)
        assert script_hash(*args) == ledger.entry_hash(*args)  # type: ignore[operator]
