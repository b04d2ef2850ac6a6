"""A resident votes through the pages: basket, review, cast, receipt, re-vote, checks."""

from __future__ import annotations

from sqlmodel import col, select

from tests.helpers import HOSTILE, sign_in
from tests.voting.factories import basket, cast, make_voter, make_voting_round, receipt_of
from voting.models import Ballot, BallotLogEntry, Participation


def test_resident_fills_a_knapsack_basket_reviews_and_casts(client, database) -> None:
    setup = make_voting_round(database, kind="knapsack", min_spend_percent=50)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    pot = setup.pots[0]
    first, second, third = setup.items[0][:3]

    page = client.get(f"/rounds/{setup.round.id}/vote/{pot}")
    assert page.status_code == 200
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    assert "no-store" in page.headers["cache-control"]
    assert basket(client, setup.round.id, pot, "add", first).status_code == 303
    assert basket(client, setup.round.id, pot, "add", second).status_code == 303
    over = basket(client, setup.round.id, pot, "add", third)
    assert over.status_code == 422
    assert "over the budget" in over.text and "Remove a project" in over.text

    review = client.get(f"/rounds/{setup.round.id}/vote/{pot}/review")
    assert "Cast my ballot" in review.text and "700" in review.text
    receipt = receipt_of(cast(client, setup.round.id, pot, {first: 1, second: 1}))
    page = client.get(f"/receipts/{receipt}")
    assert page.status_code == 200 and receipt in page.text
    assert "no-store" in page.headers["cache-control"]
    assert "Project" in page.text

    with database.session() as db:
        ballot = db.exec(select(Ballot)).one()
        assert db.exec(select(Participation)).one().channel == "online"
    assert ballot.is_current and "person" not in ballot.content


def test_review_says_what_to_fix_when_too_little_is_spent(client, database) -> None:
    setup = make_voting_round(database, kind="knapsack", min_spend_percent=70)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    pot, cheap = setup.pots[0], setup.items[0][3]
    basket(client, setup.round.id, pot, "add", cheap)
    review = client.get(f"/rounds/{setup.round.id}/vote/{pot}/review")
    assert "spend at least" in review.text and "Cast my ballot" not in review.text
    refused = cast(client, setup.round.id, pot, {cheap: 1})
    assert refused.status_code == 422 and "spend at least" in refused.text


def test_htmx_basket_edit_returns_the_basket_and_the_meter(client, database) -> None:
    setup = make_voting_round(database, kind="approval", max_choices=2)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    pot, ideas = setup.pots[0], setup.items[0]
    response = basket(client, setup.round.id, pot, "add", ideas[0], htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="basket">')
    assert 'hx-swap-oob="innerHTML"' in response.text and "Chosen: 1 of 2" in response.text
    assert response.headers["vary"] == "HX-Request"
    basket(client, setup.round.id, pot, "add", ideas[1], htmx=True)
    third = basket(client, setup.round.id, pot, "add", ideas[2], htmx=True)
    assert third.status_code == 422 and "at most 2 projects" in third.text


def test_re_voting_replaces_the_ballot_and_marks_the_old_entry_superseded(client,
                                                                          database) -> None:
    setup = make_voting_round(database, kind="approval", max_choices=2)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    pot, ideas = setup.pots[0], setup.items[0]
    old = receipt_of(cast(client, setup.round.id, pot, {ideas[0]: 1}))
    new = receipt_of(cast(client, setup.round.id, pot, {ideas[1]: 1, ideas[2]: 1}))
    assert old != new
    with database.session() as db:
        ballots = db.exec(select(Ballot).order_by(col(Ballot.id))).all()
        entries = db.exec(select(BallotLogEntry).order_by(col(BallotLogEntry.seq))).all()
    assert [b.is_current for b in ballots] == [None, True]
    assert entries[1].supersedes is None  # the public log does not link the two
    # Whoever holds the old receipt cannot tell, while voting is open, that it was replaced;
    # the old and the new receipt read alike. Only the signed-in voter sees it.
    client.cookies.clear()
    for code in (old, new):
        checked = client.get(f"/receipts?code={code}").text
        assert "published when voting closes" in checked
        assert "changed their vote" not in checked and "does not count" not in checked
        assert "This ballot counts" not in checked
    assert "superseded" not in client.get(f"/rounds/{setup.round.id}/log.json").text
    sign_in(client, "voter@example.kg")
    assert "no longer counts" in client.get(f"/receipts/{old}").text


def test_receipts_of_others_are_not_shown_to_anyone_but_their_voter(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_voter(database, district=setup.districts[0])
    make_voter(database, "other@example.kg", district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    code = receipt_of(cast(client, setup.round.id, setup.pots[0], {setup.items[0][0]: 1}))
    client.post("/signout", data={"csrf_token": __import__("tests.helpers").helpers.csrf_of(
        client, "/")})
    sign_in(client, "other@example.kg")
    assert client.get(f"/receipts/{code}").status_code == 404
    assert "entry 1 of 1" in client.get(f"/receipts?code={code}").text


def test_resident_cannot_vote_in_another_districts_pot(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    other = setup.pots[1]
    assert client.get(f"/rounds/{setup.round.id}/vote/{other}").status_code == 404
    assert cast(client, setup.round.id, other, {setup.items[1][0]: 1}).status_code == 404
    home = client.get(f"/rounds/{setup.round.id}/vote")
    assert home.text.count('class="card"') == 2


def test_voting_is_refused_outside_the_voting_phase_and_for_unverified(client,
                                                                       database) -> None:
    setup = make_voting_round(database, kind="approval", phase="counting")
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    closed = cast(client, setup.round.id, setup.pots[None], {setup.items[None][0]: 1})
    assert closed.status_code == 422 and "not open" in closed.text


def test_unverified_resident_is_told_to_verify(client, database) -> None:
    setup = make_voting_round(database, kind="approval", verified_only=True)
    make_voter(database, district=setup.districts[0], verified=False)
    sign_in(client, "voter@example.kg")
    refused = cast(client, setup.round.id, setup.pots[None], {setup.items[None][0]: 1})
    assert refused.status_code == 422 and "Verify your account" in refused.text


def test_a_minimum_age_must_be_confirmed(client, database) -> None:
    setup = make_voting_round(database, kind="approval", min_age=16)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    pot, idea = setup.pots[None], setup.items[None][0]
    assert cast(client, setup.round.id, pot, {idea: 1}).status_code == 422
    receipt_of(cast(client, setup.round.id, pot, {idea: 1}, age_confirmed="yes"))


def test_casting_needs_a_csrf_token_and_post(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    url = f"/rounds/{setup.round.id}/vote/{setup.pots[None]}/cast"
    assert client.post(url, data={"mark": f"{setup.items[None][0]}:1"}).status_code == 403
    assert client.get(url).status_code == 405


def test_round_page_and_log_show_the_head_hash(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    code = receipt_of(cast(client, setup.round.id, setup.pots[None], {setup.items[None][0]: 1}))
    assert code in client.get(f"/rounds/{setup.round.id}").text
    assert code in client.get(f"/rounds/{setup.round.id}/log").text
    export = client.get(f"/rounds/{setup.round.id}/log.json").json()
    assert export["head"] == code and export["count"] == 1
    assert set(export["entries"][0]) == {"seq", "hour", "commitment", "prev_hash",
                                         "entry_hash", "supersedes", "kind"}
    assert export["entries"][0]["kind"] == "ballot"  # "withdrawal" only for a late claim
    assert export["closed"] is False and "counted" not in export
    assert export["entries"][0]["hour"].endswith(":00Z")


def test_casting_over_and_over_is_rate_limited(client, app, database) -> None:
    import dataclasses
    app.state.settings = dataclasses.replace(app.state.settings, cast_rate_limit="3/3600")
    setup = make_voting_round(database, kind="knapsack", min_spend_percent=50)
    make_voter(database, district=setup.districts[0])
    sign_in(client, "voter@example.kg")
    statuses = [cast(client, setup.round.id, setup.pots[0], {}).status_code for _ in range(4)]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
