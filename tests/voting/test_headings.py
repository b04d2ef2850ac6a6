"""Headings say a thing once: the vote page does not repeat the round's own word for voting,
the ballot log page names itself once and links to the receipt check once, and the
simulation summary says "every rule funds this project" for a single common project."""

from __future__ import annotations

from results.simulation import simulate
from results.simulation_routes import Column, summary
from tests.helpers import sign_in
from tests.tally.tally_helpers import approvals
from tests.voting.factories import make_voter, make_voting_round


def test_the_ballot_log_page_has_one_heading_one_receipt_link_and_no_link_to_itself(
        client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    page = client.get(f"/rounds/{setup.round.id}/log").text
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert main.count("<h1>") == 1
    assert main.count("Ballot log") == 1
    assert main.count('href="/receipts"') == 1
    assert f'href="/rounds/{setup.round.id}/log"' not in main


def test_the_vote_page_heading_does_not_say_vote_twice(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    from contests.models import Round

    with database.session(write=True) as db:
        row = db.get(Round, setup.round.id)
        row.title = "Voting for projects"
        db.add(row)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    page = client.get(f"/rounds/{setup.round.id}/vote").text
    assert "<h1>Voting for projects</h1>" in page
    assert "Vote: Voting" not in page


def test_one_project_funded_by_every_rule_reads_as_this_project() -> None:
    from core import i18n

    i18n.set_locale("en", "Asia/Bishkek")
    election = approvals([30, 60, 20], 100, [[1], [0], [0, 2], [0, 2], [0, 1], [0, 1]])
    sim = simulate(election)
    assert [x.id for x in sim.everywhere] == ["p0"]
    columns = [Column(run, run.key, "") for run in sim.runs]
    first = summary(sim, columns)[0]
    assert first.startswith("Every rule funds this project:")
    assert "1 project" not in first
