"""The demo city keeps the README's promises: a round in each phase a newcomer can try, the
accounts, census entries two residents can claim, ideas by several authors with photos,
categories that fit, district populations and budgets that agree."""

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from contests.models import Category, Phase, Round, RoundPot
from contests.services import current_phase
from core.accounts.services import claim_census
from core.demo import CENSUS, DEMO_PEOPLE, SOM_PER_RESIDENT, seed
from core.models import District, User, utcnow
from ideas.models import Attachment, Idea, IdeaStatus

README = (Path(__file__).parents[2] / "README.md").read_text()

#: round number -> the phase open now, as the README's table says.
PHASES = {1: Phase.SUBMISSION, 2: Phase.VOTING, 3: Phase.RESULTS, 4: Phase.SUPPORTS,
          5: Phase.JURY_REVIEW, 6: Phase.COUNTING}


@pytest.fixture
def city(database, tmp_path):
    now = utcnow()
    with database.session(write=True) as db:
        seed(db, now, upload_dir=tmp_path, census_salt="pepper")
    return now, tmp_path


def test_each_round_is_in_the_phase_the_readme_names(database, city) -> None:
    now, _uploads = city
    with database.session() as db:
        rounds = {r.number: r for r in db.exec(select(Round)).all()}
        assert set(rounds) == set(PHASES)
        for number, phase in PHASES.items():
            open_now = current_phase(db, rounds[number], now)
            assert open_now is not None and open_now.phase == phase, number
            assert f"| {number} |" in README, number


def test_the_readme_lists_every_account_and_census_number() -> None:
    for email, password, _name, _roles in DEMO_PEOPLE:
        assert email in README and password in README
    for number, _district in CENSUS:
        assert number in README


def test_both_residents_can_claim_a_census_entry(database, city) -> None:
    now, _uploads = city
    with database.session(write=True) as db:
        people = {u.email: u for u in db.exec(select(User)).all()}
        second = people["resident2@demo.shaar.kg"]
        assert not second.is_verified
        assert claim_census(db, people["resident@demo.shaar.kg"], "pepper", CENSUS[0][0], now)
        assert claim_census(db, second, "pepper", CENSUS[1][0], now)
        assert not claim_census(db, second, "pepper", "00000000000000", now)
    with database.session() as db:
        assert db.exec(select(User).where(User.email == "resident2@demo.shaar.kg")).one() \
            .is_verified


def test_ideas_have_several_authors_photos_and_fitting_categories(database, city) -> None:
    _now, uploads = city
    with database.session() as db:
        ideas = db.exec(select(Idea)).all()
        resident = db.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        assert len({i.author_id for i in ideas}) >= 4
        assert sum(1 for i in ideas if i.author_id == resident.id) >= 3
        photos = db.exec(select(Attachment).where(Attachment.kind == "image")).all()
        assert len(photos) >= 15
        assert {p.content_type for p in photos} == {"image/jpeg", "image/png", "image/webp"}
        for photo in photos:
            assert (uploads / photo.stored_name).stat().st_size > 1000
            assert photo.thumb_name and (uploads / photo.thumb_name).exists()
        mine = {p.idea_id for p in photos} & {i.id for i in ideas if i.author_id == resident.id}
        assert mine
        used = {i.category_id for i in ideas}
        assert {c.id for c in db.exec(select(Category)).all()} <= used
        assert all(i.category_id is not None for i in ideas)


def test_supports_jury_and_counting_rounds_have_work_to_do(database, city) -> None:
    from jury.models import RoundJury
    from jury.queries import pool
    from results.services import count_round, publication_of

    now, _uploads = city
    with database.session(write=True) as db:
        rounds = {r.number: r for r in db.exec(select(Round)).all()}
        supports = db.exec(select(Idea).where(Idea.round_id == rounds[4].id)).all()
        assert supports and all(0 < i.support_count < rounds[4].min_supports for i in supports)
        jury = db.exec(select(User).where(User.email == "jury@demo.shaar.kg")).one()
        chair = db.exec(select(RoundJury).where(RoundJury.round_id == rounds[5].id)).one()
        assert chair.chair_user_id == jury.id and len(pool(db, rounds[5])) >= 3
        assert publication_of(db, rounds[6].id or 0) is None
        run = count_round(db, rounds[6], jury.id, now)
        assert run.id is not None
        submitted = db.exec(select(func.count()).select_from(Idea)
                            .where(Idea.status == IdeaStatus.SUBMITTED)).one()
        assert submitted >= 2  # the moderators' queue


def test_district_populations_and_budgets_agree(database, city) -> None:
    with database.session() as db:
        districts = db.exec(select(District).order_by(col(District.id))).all()
        assert [d.slug for d in districts] == ["leninsky", "oktyabrsky", "pervomaisky",
                                               "sverdlovsky"]
        assert 1_000_000 < sum(d.population for d in districts) < 1_400_000
        first = db.exec(select(Round).where(Round.number == 1)).one()
        for district in districts:
            pot = db.exec(select(RoundPot).where(RoundPot.round_id == first.id,
                                                 RoundPot.district_id == district.id)).one()
            assert abs(pot.budget - district.population * SOM_PER_RESIDENT) <= 50_000


def test_home_page_calls_to_action_timelines_pictures_and_icons(client, settings,
                                                                database) -> None:
    from babel.dates import format_date

    from contests.models import RoundPhase
    from core.i18n import local_time

    with database.session(write=True) as db:
        seed(db, utcnow(), upload_dir=settings.upload_dir)
        first = db.exec(select(Round).where(Round.number == 1)).one()
        ends = db.exec(select(RoundPhase).where(RoundPhase.round_id == first.id,
                                                RoundPhase.phase == Phase.SUBMISSION)).one()
        ids = {r.number: r.id for r in db.exec(select(Round)).all()}
    page = client.get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.text
    for link in (f"/rounds/{ids[1]}/ideas/new", f"/rounds/{ids[2]}/vote",
                 f"/ideas?round={ids[4]}", f"/rounds/{ids[3]}/results"):
        assert f'href="{link}"' in text, link
    with_zone = local_time(ends.ends_at)  # the city's zone (Asia/Bishkek by default)
    # English pages write dates the British way (day first).
    assert f"Propose until {format_date(with_zone, 'long', locale='en_GB')}" in text
    assert "Vote until " in text and 'aria-current="step"' in text
    assert text.count('<svg class="icon"') >= 4
    assert all('aria-hidden="true"' in svg.split(">", 1)[0]
               for svg in text.split('<svg class="icon"')[1:])
    assert 'class="card-thumb" src="/files/' in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    russian = client.get("/", headers={"Accept-Language": "ru"}).text
    assert "Предлагайте идеи до " in russian and "Голосуйте до " in russian


def test_idea_cards_without_a_photo_show_a_placeholder_with_the_category_icon(
        client, database) -> None:
    with database.session(write=True) as db:
        seed(db, utcnow())  # no upload folder: no photos
    page = client.get("/ideas").text
    assert 'class="card-thumb card-placeholder" aria-hidden="true"' in page
    assert "<img" not in page.split("<main", 1)[1]
