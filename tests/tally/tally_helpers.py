"""Shared helpers for the counting tests: the real pabulib files, small factories, and a
bridge to pabutools, which the tests use only as an oracle."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from voting.tally.model import Election, Money, Project, approval_election, points_election

REPO = Path(__file__).resolve().parents[2]
PABULIB_DIR = Path(os.environ.get("PABULIB_DIR", REPO.parent / "shared" / "pabulib"))

SMALL_FILES = (
    "Netherlands_Assen_2024.pb",
    "Poland_Czestochowa_2024_Podjasnogorska.pb",
    "Poland_Katowice_2024_Zarzecze.pb",
    "Poland_Krakow_2019_Bienczyce.pb",
    "Poland_Wroclaw_2017_Rejon_nr_11_750.pb",
    "Poland_Swiecie_2023.pb",
    "Poland_Warszawa_2023_Rembertow.pb",
    "Poland_Wieliczka_2023_Green_Budget.pb",
)
LARGE_FILES = ("Poland_Warszawa_2026.pb", "Poland_Lodz_2022.pb", "Poland_Krakow_2024.pb")

# A hostile name: explanations and JSON must carry it through untouched.
HOSTILE = '<script>alert("x")</script>; "quoted"'


def pabulib_file(name: str) -> Path:
    """Path of a real election file; skips the test when the folder is absent."""
    path = PABULIB_DIR / name
    if not path.exists():
        pytest.skip(f"pabulib file {name} not in {PABULIB_DIR}; to run it: "
                    f"PABULIB_DIR=/path/to/pabulib make test")
    return path


def projects(*costs: Money) -> list[Project]:
    """Projects named p0, p1, ... with the given costs (and a hostile name)."""
    return [Project(f"p{i}", cost, HOSTILE) for i, cost in enumerate(costs)]


def approvals(costs: Sequence[Money], budget: Money, ballots: Sequence[Sequence[int]]) -> Election:
    """An approval election; ballots list project positions."""
    items = projects(*costs)
    return approval_election(items, budget, [[items[i].id for i in b] for b in ballots])


def cumulative(
    costs: Sequence[Money], budget: Money, ballots: Sequence[dict[int, int]]
) -> Election:
    items = projects(*costs)
    return points_election(items, budget, [{items[i].id: v for i, v in b.items()} for b in ballots])


def pb_text(meta: dict[str, str], project_rows: list[str], vote_rows: list[str]) -> str:
    """A small pabulib file as text; ``project_rows`` are 'id;cost;name' lines."""
    lines = ["META", "key;value"] + [f"{k};{v}" for k, v in meta.items()]
    lines += ["PROJECTS", "project_id;cost;name", *project_rows]
    lines += ["VOTES", "voter_id;vote", *vote_rows]
    return "\n".join(lines) + "\n"
