"""Every ballot type goes out as a pabulib file that recounts to the published winners."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from core.db import Database
from core.models import utcnow
from results import services
from tests.helpers import set_phase
from tests.results.factories import quick_voter
from tests.voting.factories import cast_as, make_voting_round, online
from voting.tally.cli import tally
from voting.tally.pabulib import loads

OPTIONS: dict[str, dict[str, int]] = {
    "approval": {"max_choices": 2},
    "cumulative": {"points_total": 5, "max_points_per_project": 3},
    "ordinal": {"max_choices": 3},
}
MARKS: dict[str, list[tuple[int, ...]]] = {
    # Per voter: marks for the district's first three projects (0 = not chosen).
    "approval": [(1, 1, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0)],
    "cumulative": [(3, 2, 0), (1, 0, 3), (0, 3, 2), (2, 0, 0), (0, 0, 3)],
    "ordinal": [(1, 2, 3), (2, 1, 0), (0, 1, 2), (1, 0, 0), (3, 1, 2)],
}


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_each_ballot_type_recounts_from_its_pabulib_file(app: Any, database: Database,
                                                          tmp_path: Any, kind: str) -> None:
    setup = make_voting_round(database, kind=kind, **OPTIONS[kind])
    district = setup.districts[0]
    ideas = setup.items[0][:3]
    for n, marks in enumerate(MARKS[kind]):
        voter = quick_voter(database, f"v{n}@example.kg", district)
        cast_as(database, setup.round, setup.pots[0], online(voter),
                {idea: mark for idea, mark in zip(ideas, marks, strict=True) if mark})
    set_phase(database, setup.round.id, "counting")
    with database.session(write=True) as s:
        run = services.count_round(s, setup.round, None, utcnow())
        services.publish(s, setup.round, run.id or 0, "Statement", [], None, utcnow())
    client = TestClient(app)
    pot = next(p for p in client.get(f"/api/rounds/{setup.round.id}/results").json()["pots"]
               if p["pot_id"] == setup.pots[0])
    text = client.get(f"/rounds/{setup.round.id}/results/pots/{setup.pots[0]}.pb").text
    pb = loads(text)
    assert pb.meta["vote_type"] == ("approval" if kind == "approval" else kind)
    assert pb.meta["num_votes"] == "5"
    path = tmp_path / "pot.pb"
    path.write_text(text, encoding="utf-8")
    recount = CliRunner().invoke(tally, [str(path)])
    assert recount.exit_code == 0, recount.output
    lines = recount.stdout.splitlines()  # a slow count adds a progress bar on stderr
    assert lines[: len(pot["winners"])] == [str(i) for i in pot["winners"]]
    assert lines[len(pot["winners"])].startswith("total cost")
