"""What a resident notices on an idea page: support only while supports matter, the ballot
status instead of "published", and a way to vote for a project on an open ballot."""

from __future__ import annotations

from sqlmodel import select

from contests.models import Round
from core.models import utcnow
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus
from ideas.services import create_idea
from tests.helpers import make_round, make_user, sign_in
from tests.voting.factories import make_voting_round


def _idea(database, round_id: int, author_id: int, status: IdeaStatus) -> Idea:
    data = IdeaData(title="Benches by the school", summary="Six benches by the school gate",
                    description="", category_id=None, district_id=None,
                    estimated_cost=1000, address="", latitude=None, longitude=None)
    with database.session(write=True) as db:
        return create_idea(db, db.get(Round, round_id), author_id, data, utcnow(), status)


def test_a_published_idea_in_the_supports_phase_has_the_support_section(client,
                                                                        database) -> None:
    setup = make_round(database, phase="supports")
    author = make_user(database, "author@example.kg")
    idea = _idea(database, setup.round.id, author.id, IdeaStatus.PUBLISHED)
    page = client.get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"})
    assert 'id="support"' in page.text


def test_an_unsubmitted_idea_has_no_support_section(client, database) -> None:
    setup = make_round(database, phase="supports")
    author = make_user(database, "author@example.kg")
    idea = _idea(database, setup.round.id, author.id, IdeaStatus.SUBMITTED)
    sign_in(client, "author@example.kg")
    page = client.get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'id="support"' not in page.text


def test_an_idea_on_an_open_ballot_links_to_vote_and_says_it_is_on_the_ballot(client,
                                                                             database) -> None:
    setup = make_voting_round(database, kind="approval")
    idea_id, pot = setup.items[0][0], setup.pots[0]
    with database.session() as db:
        idea = db.get(Idea, idea_id)
    page = client.get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"}).text
    assert 'id="support"' not in page
    assert "<dd>On the ballot</dd>" in page and "<dd>Published</dd>" not in page
    assert f'href="/rounds/{setup.round.id}/vote/{pot}#item-{idea_id}"' in page
    assert "Vote for this project" in page


def test_the_moderation_counts_include_ideas_on_the_ballot(client, database) -> None:
    setup = make_voting_round(database, kind="approval")
    make_user(database, "mod@example.kg", roles=("moderator",))
    sign_in(client, "mod@example.kg")
    page = client.get("/moderation", headers={"Accept-Language": "en"}).text
    with database.session() as db:
        total = len(db.exec(select(Idea).where(Idea.round_id == setup.round.id)).all())
    assert f"<dt>On the ballot</dt><dd>{total}</dd>" in page
