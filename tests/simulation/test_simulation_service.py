"""results.simulation: every rule counted as the engine counts it, stopped when too slow,
compared in words; uploads refused with a reason."""

from __future__ import annotations

import pytest

from results.simulation import (
    MAX_FILE_BYTES,
    SimulationRefused,
    add1_increment,
    read_upload,
    simulate,
    simulate_file,
)
from tests.tally.tally_helpers import SMALL_FILES, approvals, pabulib_file
from voting.tally.pabulib import loads
from voting.tally.rules import RuleSpec, tally

ASSEN = "Netherlands_Assen_2024.pb"


@pytest.mark.parametrize("name", SMALL_FILES)
def test_every_rule_selects_what_the_engine_selects_and_the_files_rule_what_the_city_funded(
        name: str) -> None:
    raw = pabulib_file(name).read_bytes()
    election = loads(raw.decode("utf-8-sig"), keep_votes=False).to_election()

    result = simulate_file(raw)

    sim = result.simulation
    assert [r.key for r in sim.runs][:6] == ["greedy", "greedy_no_skip", "mes", "mes_greedy",
                                             "mes_add1", "mes_add1_greedy"]
    for run in sim.runs:
        assert not run.stopped, run.key
        expected = tally(election, run.spec, explain=False)
        assert set(run.selected) == set(expected.selected), (name, run.key)
        assert run.total_cost == expected.total_cost <= election.budget
    official = [r for r in sim.runs if r.official]
    assert len(official) == 1 and result.rule_known
    funded_in_file = {line.id for line in sim.lines if line.in_file}
    assert set(official[0].selected) == funded_in_file
    for i, run in enumerate(sim.runs):
        assert {line.id for line in sim.lines if line.chosen[i]} == set(run.selected)


def test_points_ballots_show_points_apart_from_votes() -> None:
    sim = simulate_file(pabulib_file("Poland_Krakow_2019_Bienczyce.pb").read_bytes()).simulation
    assert sim.kind == "ordinal"
    assert all(line.score >= line.votes for line in sim.lines)
    assert any(line.score > line.votes for line in sim.lines)
    assert [line.score for line in sim.lines] == sorted((x.score for x in sim.lines),
                                                        reverse=True)


def test_the_add1_step_is_one_unless_a_few_voters_share_a_large_budget() -> None:
    assert add1_increment(100_000, 84) == 1  # Assen: 1,190 per voter
    assert add1_increment(24_186_815, 61_668) == 1
    assert add1_increment(3_000_000, 8) == 100  # 375,000 per voter
    assert add1_increment(1_000_000, 0) == 1
    assert add1_increment(0, 10) == 1


def test_a_rule_that_runs_out_of_time_is_stopped_and_left_out_of_the_comparison() -> None:
    raw = pabulib_file(ASSEN).read_bytes()
    sim = simulate_file(raw, seconds=0).simulation
    stopped = {r.key for r in sim.runs if r.stopped}
    assert stopped == {"mes_add1", "mes_add1_greedy"}
    assert all(r.problem == "time" and r.selected == () for r in sim.runs if r.stopped)
    # The file's rule (add1) could not be counted: greedy is the reference instead.
    assert sim.reference.key == "greedy"
    assert {d.run.key for d in sim.differences} == {"greedy_no_skip", "mes", "mes_greedy"}
    assert sim.everywhere  # from the rules that finished


def test_differences_name_what_each_rule_adds_and_drops() -> None:
    # Greedy funds the popular p1; equal shares gives the lone p1 supporters less weight.
    election = approvals([30, 60, 20], 100, [[1], [0], [0, 2], [0, 2], [0, 1], [0, 1]])
    sim = simulate(election)
    greedy, mes = sim.runs[0], sim.runs[2]
    assert set(greedy.selected) == {"p0", "p1"}
    assert set(mes.selected) == {"p0", "p2"}
    diff = next(d for d in sim.differences if d.run.key == "mes")
    assert diff.reference is greedy
    assert [x.id for x in diff.added] == ["p2"] and [x.id for x in diff.dropped] == ["p1"]
    assert [x.id for x in sim.everywhere] == ["p0"]


def test_a_round_rule_with_options_gets_its_own_column() -> None:
    election = approvals([60, 50, 50], 100, [[0], [0], [1], [2], [1, 2]])
    rule = RuleSpec(threshold=2)
    sim = simulate(election, official=rule)
    assert sim.runs[-1].key == "official" and sim.runs[-1].official
    assert sim.reference.key == "official"
    assert set(sim.runs[-1].selected) == set(tally(election, rule).selected)


@pytest.mark.parametrize(("raw", "code", "detail"), [
    (b"", "empty", ""),
    (b"  \n\r\n", "empty", ""),
    (b"META\nkey;value\ndescription;\xc5\x81\xf3d\xbf\n", "not_utf8", "byte 30"),
    (b"META\nkey;value\nnum_projects;many\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n",
     "unreadable", "many"),
    (b"META\nkey;value\nbudget;" + b"1" * 200_000 + b"\n", "unreadable", "field limit"),
    (b"META\nkey;value\nbudget;10\x00\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n",
     "unreadable", "bad budget"),
    (b"META\n" + b"x" * MAX_FILE_BYTES, "too_large", ""),
])
def test_an_upload_that_is_not_a_pabulib_file_is_refused_with_a_reason(
        raw: bytes, code: str, detail: str) -> None:
    with pytest.raises(SimulationRefused) as caught:
        simulate_file(raw)
    assert caught.value.code == code
    assert detail in caught.value.detail


def test_amounts_too_large_for_equal_shares_are_reported_not_raised() -> None:
    text = pabulib_file(ASSEN).read_text(encoding="utf-8").replace("budget;100000",
                                                                   "budget;1e400")
    sim = simulate_file(text.encode()).simulation
    assert not sim.runs[0].stopped and sim.runs[0].selected
    assert {r.problem for r in sim.runs if r.spec.rule == "mes"} == {"error"}


def test_a_byte_order_mark_is_accepted() -> None:
    raw = pabulib_file(ASSEN).read_bytes()
    assert read_upload(b"\xef\xbb\xbf" + raw).meta["unit"] == "Assen"
