"""``shaar tally FILE.pb``: what an official sees when recounting a file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from tally_helpers import pabulib_file, pb_text

from voting.tally.cli import tally


def run(*args: str) -> tuple[int, str]:
    """The exit code, and what the command printed for the official: the result on standard
    output, or the refusal on standard error. Standard error also carries a progress bar once
    a count lasts a second (on a loaded machine, any real file), so a result is read from
    standard output alone."""
    result = CliRunner().invoke(tally, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def test_prints_the_funded_projects_in_selection_order_and_the_total() -> None:
    code, out = run(str(pabulib_file("Poland_Warszawa_2023_Rembertow.pb")))
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["1639", "839", "1147"]
    assert lines[-1] == "total cost: 1004015 (budget 1011308)"


def test_rule_comes_from_meta_and_json_has_the_promised_keys() -> None:
    code, out = run(str(pabulib_file("Poland_Wieliczka_2023_Green_Budget.pb")), "--json")
    assert code == 0
    data = json.loads(out)
    assert {"selected", "total_cost", "rule", "steps", "tie_break"} <= set(data)
    assert data["total_cost"] == 995079 and len(data["selected"]) == 30
    assert "no exhaustive stop" in data["rule"] and "comparison step" in data["rule"]
    kinds = {step["kind"] for step in data["steps"]}
    assert kinds == {"completion", "mes", "comparison"}


def test_a_slow_count_shows_progress_on_stderr_and_keeps_the_json_clean(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 10**6, 2))  # every look at the clock finds two more seconds gone
    monkeypatch.setattr("voting.tally.cli.time", SimpleNamespace(monotonic=lambda: next(clock)))
    result = CliRunner().invoke(tally, [str(pabulib_file("Poland_Wieliczka_2023_Green_Budget.pb")),
                                        "--json"])
    assert result.exit_code == 0
    assert "add1 completion" in result.stderr and "per voter" in result.stderr
    assert json.loads(result.stdout)["total_cost"] == 995079


def test_options_override_the_file_convention() -> None:
    path = str(pabulib_file("Poland_Wieliczka_2023_Green_Budget.pb"))
    code, out = run(path, "--exhaustive-stop", "--comparison", "none")
    assert code == 0 and out.splitlines()[-1].startswith("total cost: 984579")
    code, out = run(path, "--rule", "greedy", "--threshold", "400")
    assert code == 0 and out.splitlines()[0] == "24"


def test_explain_tells_why_a_project_was_skipped() -> None:
    code, out = run(str(pabulib_file("Poland_Krakow_2019_Bienczyce.pb")), "--explain")
    assert code == 0
    assert "11 (score 503, cost 180,000): skipped, it does not fit" in out


def test_unrecomputable_rule_asks_for_an_explicit_one(tmp_path: Path) -> None:
    meta = {"budget": "10", "vote_type": "approval", "rule": "greedy-custom"}
    path = tmp_path / "custom.pb"
    path.write_text(pb_text(meta, ["a;5;A"], ["1;a"]), encoding="utf-8")
    code, out = run(str(path))
    assert code == 2 and "greedy-custom" in out and "--rule" in out
    code, out = run(str(path), "--rule", "mes")
    assert code == 0 and out.splitlines()[0] == "a"


def test_malformed_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.pb"
    meta = {"budget": "10", "vote_type": "approval", "rule": "greedy"}
    path.write_text(pb_text(meta, ["a;5;A"], ["1;zz"]), encoding="utf-8")
    code, out = run(str(path))
    assert code == 1 and "line 11: vote names unknown project 'zz'" in out


def test_bad_tie_break_is_a_usage_error() -> None:
    code, out = run(str(pabulib_file("Netherlands_Assen_2024.pb")), "--tie-break", "coin")
    assert code == 2 and "unknown tie-break 'coin'" in out
