"""An idea on an open ballot stays on it: its author cannot withdraw it and residents' reports
cannot hide it (they wait for a moderator). A blocked resident keeps the right to vote."""

from __future__ import annotations

from sqlmodel import select
from starlette.testclient import TestClient

from core.models import Block, utcnow
from ideas.models import Idea, IdeaStatus
from moderation.models import Report
from tests.helpers import csrf_of, make_user, sign_in
from tests.voting.factories import cast, make_voter, make_voting_round, receipt_of
from voting.models import Ballot


def _idea(database, idea_id: int) -> Idea:
    with database.session() as s:
        row = s.get(Idea, idea_id)
        assert row is not None
        return row


def test_the_author_cannot_withdraw_an_idea_on_an_open_ballot(app, database) -> None:
    setup = make_voting_round(database, kind="approval")
    idea = _idea(database, setup.items[0][0])
    author = TestClient(app, follow_redirects=False)
    sign_in(author, "author@example.kg")
    page = f"/ideas/{idea.reference}"
    response = author.post(page + "/withdraw", headers={"Accept-Language": "en"},
                           data={"csrf_token": csrf_of(author, page),
                                 "version": str(idea.version)})
    assert response.status_code == 303
    shown = author.get(response.headers["location"], headers={"Accept-Language": "en"}).text
    assert "on a ballot, so it can no longer be withdrawn" in shown
    assert _idea(database, idea.id or 0).status == IdeaStatus.PUBLISHED
    assert TestClient(app).get(page).status_code == 200


def test_reports_do_not_hide_a_ballot_item_but_wait_for_moderators(app, database) -> None:
    setup = make_voting_round(database, kind="approval")
    idea = _idea(database, setup.items[0][0])
    path = f"/ideas/{idea.reference}/report"
    for n in range(4):
        make_user(database, f"r{n}@example.kg")
        client = TestClient(app, follow_redirects=False)
        sign_in(client, f"r{n}@example.kg")
        assert client.post(path, data={"reason": "spam", "note": "",
                                       "csrf_token": csrf_of(client, path)}).status_code == 303
    assert _idea(database, idea.id or 0).hidden_at is None
    assert TestClient(app).get(f"/ideas/{idea.reference}").status_code == 200
    with database.session() as s:
        assert len(s.exec(select(Report).where(Report.resolved_at.is_(None))).all()) == 4  # type: ignore[union-attr]
    make_user(database, "mod@example.kg", roles=("moderator",))
    moderator = TestClient(app, follow_redirects=False)
    sign_in(moderator, "mod@example.kg")
    assert idea.reference in moderator.get("/moderation/reports").text


def test_a_blocked_resident_still_votes_and_changes_their_vote(app, database) -> None:
    setup = make_voting_round(database, kind="approval")
    voter = make_voter(database, district=setup.districts[0])
    moderator = make_user(database, "mod@example.kg", roles=("moderator",))
    with database.session(write=True) as s:
        s.add(Block(user_id=voter.id, reason="abuse", starts_at=utcnow(),
                    created_by_id=moderator.id))
    client = TestClient(app, follow_redirects=False)
    sign_in(client, "voter@example.kg")
    pot, ideas = setup.pots[0], setup.items[0]
    first = receipt_of(cast(client, setup.round.id, pot, {ideas[0]: 1}))
    second = receipt_of(cast(client, setup.round.id, pot, {ideas[1]: 1}))
    assert first != second
    with database.session() as s:
        ballots = s.exec(select(Ballot).where(Ballot.round_id == setup.round.id)).all()
    assert sorted(bool(b.is_current) for b in ballots) == [False, True]
