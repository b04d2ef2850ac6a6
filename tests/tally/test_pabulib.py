"""Reading and writing pabulib files: every field survives, and mistakes name their line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tally_helpers import HOSTILE, LARGE_FILES, SMALL_FILES, pabulib_file, pb_text

from voting.tally.model import BallotKind
from voting.tally.pabulib import PabulibError, dumps, loads, read_pabulib, write_pabulib

META = {
    "description": "test",
    "num_projects": "2",
    "num_votes": "2",
    "budget": "100",
    "vote_type": "approval",
    "rule": "greedy",
}


def fields(pb):  # type: ignore[no-untyped-def]
    return (pb.meta, pb.project_columns, pb.project_rows, pb.vote_columns, pb.vote_rows)


@pytest.mark.parametrize("name", SMALL_FILES + LARGE_FILES[:1])
def test_round_trip_preserves_every_field_in_order(name: str, tmp_path: Path) -> None:
    original = read_pabulib(pabulib_file(name))
    out = tmp_path / "copy.pb"
    write_pabulib(original, out)
    again = read_pabulib(out)
    assert fields(again) == fields(original)
    assert list(again.meta) == list(original.meta)  # META order kept
    assert again.line_terminator == original.line_terminator


def test_quoted_fields_and_hostile_names_survive_a_round_trip() -> None:
    name = HOSTILE.replace(";", "; ")
    text = pb_text(
        META, [f'a;60;"{name.replace(chr(34), chr(34) * 2)}"', "b;40;plain"], ["1;a,b", "2;b"]
    )
    pb = loads(text)
    assert pb.column("name")[0] == name
    assert fields(loads(dumps(pb))) == fields(pb)
    assert pb.to_election().project("a").name == name


def test_reader_turns_votes_into_deduplicated_weighted_ballots() -> None:
    meta = META | {"num_votes": "3"}
    election = loads(pb_text(meta, ["a;60;A", "b;40;B"], ["1;a,b", "2;b", "3;a,b"])).to_election()
    assert election.profile.kind is BallotKind.APPROVAL
    assert election.profile.num_groups == 2 and election.profile.num_voters == 3
    assert election.votes == (2, 3)


def test_unknown_project_in_a_vote_names_the_line() -> None:
    text = pb_text(META, ["a;60;A", "b;40;B"], ["1;a", "2;zz"])
    with pytest.raises(PabulibError, match=r"line 16: vote names unknown project 'zz'") as info:
        loads(text).to_election()
    assert info.value.line == 16


def test_a_project_named_twice_in_one_vote_is_rejected_with_its_line() -> None:
    text = pb_text(META, ["a;60;A", "b;40;B"], ["1;a", "2;b,b"])
    with pytest.raises(PabulibError, match="line 16: vote names a project twice"):
        loads(text).to_election()


def test_bad_cost_names_the_project_line() -> None:
    text = pb_text(META, ["a;sixty;A", "b;40;B"], ["1;a", "2;b"])
    with pytest.raises(PabulibError, match="line 11: bad cost 'sixty'"):
        loads(text).to_election()


def test_wrong_vote_count_in_meta_is_reported() -> None:
    text = pb_text(META | {"num_votes": "5"}, ["a;60;A", "b;40;B"], ["1;a", "2;b"])
    with pytest.raises(PabulibError, match="line 5: META num_votes is 5 but the file has 2"):
        loads(text)


def test_sections_out_of_order_or_missing_are_reported() -> None:
    with pytest.raises(PabulibError, match="line 1: section PROJECTS out of order"):
        loads("PROJECTS\nproject_id;cost\n")
    with pytest.raises(PabulibError, match="missing section VOTES"):
        loads("META\nkey;value\nbudget;1\nPROJECTS\nproject_id;cost\na;1\n")
    with pytest.raises(PabulibError, match="line 4: header lacks the obligatory column 'cost'"):
        loads("META\nkey;value\nPROJECTS\nproject_id;name\n")


def test_too_many_fields_in_a_row_names_the_line() -> None:
    text = pb_text(META, ["a;60;A;extra", "b;40;B"], ["1;a", "2;b"])
    with pytest.raises(PabulibError, match="line 11: 4 fields but the header has 3"):
        loads(text)


def test_points_must_match_the_projects_of_a_cumulative_vote() -> None:
    text = (
        "META\nkey;value\nbudget;10\nvote_type;cumulative\nPROJECTS\nproject_id;cost\na;5\nb;5\n"
        "VOTES\nvoter_id;vote;points\n1;a,b;2,1\n2;a,b;3\n"
    )
    with pytest.raises(PabulibError, match="line 12: 2 projects in vote but 1 points"):
        loads(text).to_election()


def test_ordinal_files_use_pabulib_positional_points() -> None:
    pb = read_pabulib(pabulib_file("Poland_Krakow_2019_Bienczyce.pb"), keep_votes=False)
    assert pb.ordinal_points() == (3, 2, 1)
    election = pb.to_election()
    assert [str(s) for s in election.scores] == pb.column("score")


def test_decimal_budget_and_costs_are_exact() -> None:
    text = pb_text(META | {"budget": "100,50"}, ["a;60.25;A", "b;40;B"], ["1;a", "2;b"])
    election = loads(text).to_election()
    assert str(election.budget) == "201/2"
    assert str(election.project("a").cost) == "241/4"


def test_file_read_without_votes_cannot_be_written_back() -> None:
    pb = loads(pb_text(META, ["a;60;A", "b;40;B"], ["1;a", "2;b"]), keep_votes=False)
    with pytest.raises(ValueError, match="keep_votes=False"):
        dumps(pb)
