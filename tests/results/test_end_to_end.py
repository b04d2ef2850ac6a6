"""From ballots to published results, and back: the published .pb files recount to the
published winners with `shaar tally` and with pabutools."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from starlette.testclient import TestClient

from core.db import Database
from tests.results.factories import make_voted_round
from tests.results.test_pages import count_and_publish, signed_in
from tests.tally.tally_oracle import pabutools_outcome
from voting.tally.cli import tally
from voting.tally.pabulib import loads


def test_published_ballots_recount_to_the_published_winners(app: Any, database: Database,
                                                            tmp_path: Any) -> None:
    setup = make_voted_round(database)
    jury = signed_in(app, database, "jury")
    assert count_and_publish(jury, setup.round.id).status_code == 303
    public = TestClient(app)
    results = public.get(f"/api/rounds/{setup.round.id}/results").json()
    for pot in results["pots"]:
        response = public.get(f"/rounds/{setup.round.id}/results/pots/{pot['pot_id']}.pb")
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        pb = loads(response.text)
        assert pb.meta["rule"] == "greedy" and pb.meta["num_votes"] == str(pot["voters"])
        assert "voter" not in response.text.split("VOTES")[1].split("\n", 2)[2]  # ids 1..n
        published = [str(i) for i in pot["winners"]]
        assert published == [str(i) for i in pot["computed"]]
        path = tmp_path / f"pot-{pot['pot_id']}.pb"
        path.write_text(response.text, encoding="utf-8")
        recount = CliRunner().invoke(tally, [str(path)])
        assert recount.exit_code == 0, recount.output
        lines = recount.stdout.splitlines()  # a slow count adds a progress bar on stderr
        assert lines[: len(published)] == published
        assert lines[len(published)].startswith("total cost")
        oracle = pabutools_outcome(pb.to_election(), "greedy",
                                   tie_break="min-cost,max-votes,id")
        assert oracle == set(published)
