"""The demo city: Bishkek's four districts, one contest whose six rounds are each in another
phase (ideas, voting, results, supports, jury review, counting), one person per role, a second
resident, census entries to claim and illustrated ideas by several authors."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from contests.models import Category, Contest, Phase, Round, RoundPhase, RoundPot
from core.accounts.passwords import hash_password
from core.accounts.services import census_hash
from core.models import CensusEntry, District, Role, RoleGrant, User
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus
from ideas.services import create_idea

#: Populations rounded from the city's statistics (about 1.2 million together); the first
#: round's district budgets are proportional to them (SOM_PER_RESIDENT).
DISTRICTS = (
    ("leninsky", "Ленинский район", "Ленин району", "Leninsky district", 370_000),
    ("oktyabrsky", "Октябрьский район", "Октябрь району", "Oktyabrsky district", 320_000),
    ("pervomaisky", "Первомайский район", "Биринчи май району", "Pervomaisky district",
     240_000),
    ("sverdlovsky", "Свердловский район", "Свердлов району", "Sverdlovsky district", 300_000),
)
SOM_PER_RESIDENT = 15

#: (e-mail, password, display name, roles). Printed by `shaar seed-demo` and in the README.
DEMO_PEOPLE = (
    ("admin@demo.shaar.kg", "demo-admin-pass", "Айгуль Адмиралиева", (Role.ADMIN,)),
    ("moderator@demo.shaar.kg", "demo-moderator-pass", "Марат Модератов", (Role.MODERATOR,)),
    ("jury@demo.shaar.kg", "demo-jury-pass", "Жылдыз Жюриева", (Role.JURY,)),
    ("resident@demo.shaar.kg", "demo-resident-pass", "Бакыт Жашоочуев", ()),
    ("resident2@demo.shaar.kg", "demo-resident2-pass", "Анара Токтогулова", ()),
)

#: Other residents who wrote demo ideas; they have no password (they cannot sign in).
AUTHORS = ("Нурлан Сатыбалдиев", "Елена Ким", "Айпери Садыкова")

#: ID numbers on the demo census list (district index). The demo resident's and the second
#: resident's are in the README; the other two are for trying paper ballots.
CENSUS = (("21505199000123", 0), ("11203198500456", 1), ("20101197000789", 2),
          ("12512199500321", 3))

CATEGORIES = (
    ("parks", "Парки и дворы", "Сейилбактар жана короолор", "Parks and courtyards"),
    ("streets", "Улицы и транспорт", "Көчөлөр жана транспорт", "Streets and transport"),
    ("sport", "Спорт и отдых", "Спорт жана эс алуу", "Sport and leisure"),
    ("water", "Вода и экология", "Суу жана экология", "Water and environment"),
    ("children", "Дети и школы", "Балдар жана мектептер", "Children and schools"),
    ("access", "Доступная среда", "Жеткиликтүү чөйрө", "Accessibility"),
    ("light", "Освещение и безопасность", "Жарык жана коопсуздук", "Lighting and safety"),
)
PARKS, STREETS, SPORT, WATER, CHILDREN, ACCESS, LIGHT = range(7)

#: (district index or None for city-wide, category index, title, summary, cost, author index)
#: Author 0 is the demo resident, 1-3 are AUTHORS.
IDEAS: tuple[tuple[int | None, int, str, str, int, int], ...] = (
    (0, PARKS, "Скамейки и тень во дворе на Токтогула 125",
     "Поставить шесть скамеек и посадить деревья у детской площадки.", 450_000, 0),
    (1, LIGHT, "Освещение пешеходной дорожки вдоль Ала-Арчи",
     "Фонари на солнечных батареях на 800 метрах дорожки.", 1_200_000, 1),
    (2, STREETS, "Велодорожка по улице Жибек-Жолу",
     "Отделённая велодорожка от Советской до Эркиндик.", 3_500_000, 2),
    (3, SPORT, "Открытая спортплощадка в 12 микрорайоне",
     "Турники, брусья и резиновое покрытие для жителей всех возрастов.", 900_000, 3),
    (None, WATER, "Питьевые фонтанчики в парках города",
     "Десять фонтанчиков с питьевой водой в крупных парках Бишкека.", 700_000, 0),
)


class DemoRefused(RuntimeError):
    pass


def is_empty(db: Session) -> bool:
    return db.exec(select(func.count()).select_from(District)).one() == 0


def seed(db: Session, now: datetime, *, upload_dir: Path | None = None,
         census_salt: str = "") -> list[tuple[str, str, str]]:
    """Create the demo city in an empty database. Returns (role, e-mail, password) rows.

    With `upload_dir`, ideas get generated illustrations (core/demo_photos.py) stored there;
    `census_salt` must be the server's CENSUS_SALT for the census ID numbers to be claimable.
    """
    if not is_empty(db):
        raise DemoRefused("the database already has data")
    districts = [District(slug=s, name_ru=ru, name_ky=ky, name_en=en, population=p)
                 for s, ru, ky, en, p in DISTRICTS]
    db.add_all(districts)
    people = []
    for email, password, name, roles in DEMO_PEOPLE:
        user = User(email=email, password_hash=hash_password(password), display_name=name,
                    email_confirmed_at=now, created_at=now)
        db.add(user)
        people.append((user, roles, password))
    authors = [User(email=None, password_hash=None, display_name=name, created_at=now,
                    district_id=None) for name in AUTHORS]
    db.add_all(authors)
    db.flush()
    resident = people[3][0]
    resident.district_id = districts[0].id
    resident.is_verified, resident.verified_via, resident.verified_at = True, "admin", now
    people[4][0].district_id = districts[1].id  # not verified: claims a census entry
    for index, author in enumerate(authors):
        author.district_id = districts[index + 1].id
        author.is_verified, author.verified_via, author.verified_at = True, "admin", now
    for user, roles, _password in people:
        for role in roles:
            assert user.id is not None
            db.add(RoleGrant(user_id=user.id, role=role, granted_at=now))
    for number, census_district in CENSUS:
        db.add(CensusEntry(id_hash=census_hash(census_salt, number),
                           district_id=districts[census_district].id or 0, batch="demo"))
    writers = [resident.id or 0] + [a.id or 0 for a in authors]
    year = now.year + 1
    contest = Contest(slug=f"bishkek-{year}", title=f"Бюджет инициатив Бишкека {year}",
                      description="Предложите, что изменить в вашем районе, и проголосуйте "
                                  "за лучшие идеи.", year=year, created_at=now)
    db.add(contest)
    db.flush()
    assert contest.id is not None
    round_ = Round(contest_id=contest.id, number=1, title="Приём идей", created_at=now,
                   max_ideas_per_day=len(IDEAS) + len(WAITING) + 5)
    db.add(round_)
    categories = [Category(slug=s, name_ru=ru, name_ky=ky, name_en=en, position=i)
                  for i, (s, ru, ky, en) in enumerate(CATEGORIES)]
    db.add_all(categories)
    db.flush()
    assert round_.id is not None
    for district in districts:
        budget = round(district.population * SOM_PER_RESIDENT, -5)
        db.add(RoundPot(round_id=round_.id, district_id=district.id, budget=budget))
    db.add(RoundPot(round_id=round_.id, district_id=None, budget=10_000_000))
    start = now - timedelta(days=7)
    schedule = ((Phase.SUBMISSION, 37), (Phase.MODERATION, 14), (Phase.JURY_REVIEW, 21),
                (Phase.VOTING, 14), (Phase.RESULTS, 30))
    for phase, days in schedule:
        db.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=start,
                          ends_at=start + timedelta(days=days)))
        start += timedelta(days=days)
    photos = []
    for district_index, category_index, title, summary, cost, author_index in IDEAS:
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[category_index].id,
                        district_id=districts[district_index].id
                        if district_index is not None else None,
                        estimated_cost=cost, address="", latitude=None, longitude=None)
        idea = create_idea(db, round_, writers[author_index], data, now,
                           status=IdeaStatus.PUBLISHED)
        photos.append((idea, CATEGORIES[category_index][0]))
    photos += seed_voting_round(db, now, contest, districts, categories, resident.id or 0)
    seed_moderation(db, now, round_, categories, writers)
    seed_results_round(db, now, contest, districts, categories, writers)
    from surveys.demo import seed_demo_surveys
    seed_demo_surveys(db, now, districts)
    photos += seed_supports_round(db, now, contest, districts, categories, writers)
    photos += seed_jury_round(db, now, contest, districts, categories, writers,
                              people[2][0].id or 0)
    seed_counting_round(db, now, contest, districts, categories, writers)
    if upload_dir is not None:
        from core.demo_photos import attach_photos
        attach_photos(db, upload_dir, photos, now)
    return [(", ".join(roles) or Role.RESIDENT, user.email or "", password)
            for user, roles, password in people]


#: (district index or None, title, summary, cost, category) of the round voting now.
VOTING_IDEAS = (
    (0, "Детская площадка во дворе на Московской 150",
     "Горка, качели и мягкое покрытие для детей до 12 лет.", 800_000, CHILDREN),
    (0, "Ремонт тротуара на улице Боконбаева",
     "Новый тротуар и пандусы на 600 метрах от Логвиненко до Манаса.", 1_200_000, STREETS),
    (0, "Скверик с деревьями у школы № 61",
     "Сорок деревьев, скамейки и капельный полив.", 600_000, PARKS),
    (0, "Уличные тренажёры в парке Ата-Тюрк",
     "Десять тренажёров и навес для занятий в любую погоду.", 700_000, SPORT),
    (None, "Велопарковки у станций метробуса",
     "Сто крытых велопарковок у остановок по всему городу.", 1_500_000, STREETS),
    (None, "Общественные туалеты в центральных парках",
     "Пять доступных туалетов с пандусами.", 2_500_000, ACCESS),
    (None, "Навигация для людей с нарушением зрения",
     "Тактильная плитка и звуковые сигналы на двадцати переходах.", 900_000, ACCESS),
)


def seed_voting_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                      categories: list[Category], author_id: int) -> list[tuple[Idea, str]]:
    """A second round, voting now: a knapsack ballot in Leninsky (the demo resident's
    district) and a ranked city-wide ballot, so voting can be tried on the demo."""
    from voting.models import BallotItem, PotVoting, RoundVoting

    assert contest.id is not None
    round_ = Round(contest_id=contest.id, number=2, title="Голосование за проекты",
                   created_at=now, max_ideas_per_day=len(VOTING_IDEAS) + 3)
    db.add(round_)
    db.flush()
    assert round_.id is not None
    start = now - timedelta(days=60)
    for phase, days in ((Phase.SUBMISSION, 30), (Phase.MODERATION, 15),
                        (Phase.JURY_REVIEW, 12), (Phase.VOTING, 17), (Phase.RESULTS, 30)):
        db.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=start,
                          ends_at=start + timedelta(days=days)))
        start += timedelta(days=days)
    district_pot = RoundPot(round_id=round_.id, district_id=districts[0].id, budget=2_000_000)
    city_pot = RoundPot(round_id=round_.id, district_id=None, budget=4_000_000)
    db.add_all([district_pot, city_pot])
    db.flush()
    assert district_pot.id is not None and city_pot.id is not None
    db.add(RoundVoting(round_id=round_.id, verified_only=True, updated_at=now))
    db.add(PotVoting(round_id=round_.id, pot_id=district_pot.id, kind="knapsack",
                     min_spend_percent=50))
    db.add(PotVoting(round_id=round_.id, pot_id=city_pot.id, kind="ordinal", max_choices=2))
    photos = []
    for position, (district_index, title, summary, cost, category) in enumerate(VOTING_IDEAS):
        district = districts[district_index] if district_index is not None else None
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[category].id,
                        district_id=district.id if district else None, estimated_cost=cost,
                        address="", latitude=None, longitude=None)
        idea = create_idea(db, round_, author_id, data, now, status=IdeaStatus.PUBLISHED)
        assert idea.id is not None
        db.add(BallotItem(round_id=round_.id, idea_id=idea.id, cost=cost, position=position,
                          pot_id=district_pot.id if district else city_pot.id))
        photos.append((idea, CATEGORIES[category][0]))
    db.flush()
    return photos


REASONS = (
    ("not-city", "Не относится к полномочиям мэрии", "Мэриянын ыйгарым укуктарына кирбейт",
     "Not within the city's powers"),
    ("already-planned", "Уже запланировано городом", "Шаар тарабынан пландаштырылган",
     "Already planned by the city"),
    ("too-costly", "Превышает бюджет конкурса", "Конкурстун бюджетинен ашат",
     "Exceeds the contest's budget"),
    ("rules", "Нарушает правила конкурса", "Конкурстун эрежелерин бузат",
     "Breaks the contest rules"),
)

#: (title, summary, cost, category, author index) of the ideas waiting for moderators.
WAITING = (
    ("Урны для раздельного сбора мусора у школы № 5",
     "Три контейнера для пластика, бумаги и стекла у входа в школу.", 150_000, WATER, 0),
    ("Пандус у поликлиники № 3", "Пологий пандус с перилами у главного входа.", 400_000,
     ACCESS, 2),
)


def seed_moderation(db: Session, now: datetime, round_: Round, categories: list[Category],
                    writers: list[int]) -> None:
    """Rejection reasons, and two ideas waiting in the moderators' queue."""
    from moderation.models import RejectionReason

    for position, (slug, ru, ky, en) in enumerate(REASONS):
        db.add(RejectionReason(slug=slug, text_ru=ru, text_ky=ky, text_en=en,
                               position=position))
    for title, summary, cost, category, author in WAITING:
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[category].id, district_id=None,
                        estimated_cost=cost, address="", latitude=None, longitude=None)
        create_idea(db, round_, writers[author], data, now, status=IdeaStatus.SUBMITTED)


#: (district index or None, title, summary, cost, category) of the round with results.
RESULT_IDEAS = (
    (1, "Детская площадка в 6 микрорайоне", "Качели, горка и песочница.", 900_000, CHILDREN),
    (1, "Освещение двора на Ахунбаева 98", "Двенадцать фонарей во дворе.", 400_000, LIGHT),
    (1, "Ремонт арыков на улице Горького", "Чистка и бетонирование арыков.", 700_000, WATER),
    (None, "Зелёный маршрут вдоль Ала-Арчи", "Деревья и дорожки вдоль реки.", 2_000_000,
     PARKS),
    (None, "Скамейки на остановках", "Сто скамеек с навесами.", 1_200_000, STREETS),
    (None, "Бесплатный Wi-Fi в парках", "Точки доступа в пяти парках.", 1_500_000, PARKS),
)

#: Demo paper ballots of the finished round: (indices of RESULT_IDEAS, how many sheets).
RESULT_BALLOTS = (((0, 1), 9), ((1, 2), 6), ((0,), 4), ((2,), 3), ((3, 4), 8), ((5,), 5),
                  ((4,), 4), ((3,), 3))


def seed_results_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                       categories: list[Category], writers: list[int]) -> None:
    """A third round, finished: paper ballots counted with the greedy rule and the results
    published by the jury, so the results page and the open data can be seen on the demo."""
    from results.models import ResultRun
    from results.services import count_round, publish
    from voting.models import BallotItem, Channel, PotVoting, RoundVoting
    from voting.services import Voter, ballot_key, cast_ballot

    assert contest.id is not None
    round_ = Round(contest_id=contest.id, number=3, title="Итоги прошлого года", created_at=now,
                   max_ideas_per_day=len(RESULT_IDEAS) + 3)
    db.add(round_)
    db.flush()
    assert round_.id is not None
    start = now - timedelta(days=120)
    for phase, days in ((Phase.SUBMISSION, 30), (Phase.JURY_REVIEW, 30), (Phase.VOTING, 20),
                        (Phase.COUNTING, 10), (Phase.RESULTS, 60)):
        db.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=start,
                          ends_at=start + timedelta(days=days)))
        start += timedelta(days=days)
    pots = {1: RoundPot(round_id=round_.id, district_id=districts[1].id, budget=1_500_000),
            None: RoundPot(round_id=round_.id, district_id=None, budget=3_000_000)}
    db.add_all(pots.values())
    db.flush()
    db.add(RoundVoting(round_id=round_.id, verified_only=False, updated_at=now))
    for pot in pots.values():
        db.add(PotVoting(round_id=round_.id, pot_id=pot.id or 0, kind="approval"))
    ideas = []
    for position, (district_index, title, summary, cost, category) in enumerate(RESULT_IDEAS):
        district = districts[district_index] if district_index is not None else None
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[category].id,
                        district_id=district.id if district else None, estimated_cost=cost,
                        address="", latitude=None, longitude=None)
        idea = create_idea(db, round_, writers[position % len(writers)], data,
                           now - timedelta(days=110),
                           status=IdeaStatus.PUBLISHED)
        assert idea.id is not None
        ideas.append(idea.id)
        db.add(BallotItem(round_id=round_.id, idea_id=idea.id, cost=cost, position=position,
                          pot_id=pots[district_index].id or 0))
    db.flush()
    voting_day = now - timedelta(days=50)
    key = ballot_key("demo-ballots")
    sheet = 0
    for chosen, sheets in RESULT_BALLOTS:
        pot = pots[RESULT_IDEAS[chosen[0]][0]]
        for _n in range(sheets):
            sheet += 1
            voter = Voter(Channel.PAPER, id_hash=f"demo-sheet-{sheet:04d}")
            cast_ballot(db, round_.id or 0, pot.id or 0, voter, {ideas[i]: 1 for i in chosen},
                        key=key, now=voting_day, replace=False)
    counted = now - timedelta(days=35)
    run: ResultRun = count_round(db, round_, None, counted)
    publish(db, round_, run.id or 0, "Жюри проверило подсчёт и утверждает победителей. "
            "Бюллетени опубликованы, любой может пересчитать итоги.", [], None,
            counted + timedelta(days=1))
    from tracking.demo import seed_tracking

    seed_tracking(db, round_.id, now)


def _schedule(db: Session, round_id: int, start: datetime,
              phases: tuple[tuple[Phase, int], ...]) -> None:
    for phase, days in phases:
        db.add(RoundPhase(round_id=round_id, phase=phase, starts_at=start,
                          ends_at=start + timedelta(days=days)))
        start += timedelta(days=days)


def _ideas(db: Session, round_: Round, rows: tuple[tuple[int | None, str, str, int, int, int], ...],
           districts: list[District], categories: list[Category], writers: list[int],
           when: datetime) -> list[tuple[Idea, str]]:
    """Published ideas from (district, title, summary, cost, category, author) rows."""
    made = []
    for district_index, title, summary, cost, category, author in rows:
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[category].id,
                        district_id=districts[district_index].id
                        if district_index is not None else None,
                        estimated_cost=cost, address="", latitude=None, longitude=None)
        idea = create_idea(db, round_, writers[author], data, when, status=IdeaStatus.PUBLISHED)
        made.append((idea, CATEGORIES[category][0]))
    return made


#: (district, title, summary, cost, category, author) of the round collecting supports; then
#: how many supports each has (given by the other authors).
SUPPORT_IDEAS: tuple[tuple[int | None, str, str, int, int, int], ...] = (
    (0, "Тень и питьевая вода на площади Ала-Тоо",
     "Навесы и два фонтанчика для тех, кто ждёт транспорт летом.", 600_000, WATER, 0),
    (1, "Каток во дворе на Жукеева-Пудовкина",
     "Заливать каток зимой и ставить раздевалку.", 350_000, SPORT, 1),
    (2, "Пешеходный переход у рынка Ош",
     "Светофор с кнопкой и островок безопасности.", 1_100_000, STREETS, 2),
    (3, "Библиотечный дворик у школы № 24",
     "Полки с книгами и скамейки под навесом для детей.", 250_000, CHILDREN, 3),
    (None, "Фонари в подземных переходах",
     "Светодиодное освещение в двенадцати переходах.", 1_800_000, LIGHT, 0),
)
SUPPORT_COUNTS = (3, 2, 1, 3, 2)


def seed_supports_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                        categories: list[Category],
                        writers: list[int]) -> list[tuple[Idea, str]]:
    """Round 4 collects supports: ideas need five to reach the jury."""
    from ideas.models import Support

    assert contest.id is not None
    round_ = Round(contest_id=contest.id, number=4, title="Поддержка идей", created_at=now,
                   max_ideas_per_day=len(SUPPORT_IDEAS) + 3, min_supports=5,
                   max_supports_per_person=3)
    db.add(round_)
    db.flush()
    assert round_.id is not None
    _schedule(db, round_.id, now - timedelta(days=40),
              ((Phase.SUBMISSION, 28), (Phase.MODERATION, 8), (Phase.SUPPORTS, 14),
               (Phase.JURY_REVIEW, 14), (Phase.VOTING, 14), (Phase.RESULTS, 30)))
    db.add(RoundPot(round_id=round_.id, district_id=None, budget=5_000_000))
    made = _ideas(db, round_, SUPPORT_IDEAS, districts, categories, writers,
                  now - timedelta(days=20))
    supporters = writers[1:]
    for (idea, _slug), count in zip(made, SUPPORT_COUNTS, strict=True):
        given = [u for u in supporters if u != idea.author_id][:count]
        for user_id in given:
            db.add(Support(idea_id=idea.id or 0, user_id=user_id, round_id=round_.id,
                           created_at=now - timedelta(days=2)))
        idea.support_count = len(given)
        db.add(idea)
    db.flush()
    return made


JURY_IDEAS: tuple[tuple[int | None, str, str, int, int, int], ...] = (
    (2, "Сквер на месте пустыря у ТЭЦ",
     "Газон, дорожки, скамейки и сто деревьев на пустыре.", 2_400_000, PARKS, 1),
    (2, "Ремонт спортзала школы № 13",
     "Новый пол, освещение и раздевалки для секций по вечерам.", 1_300_000, CHILDREN, 0),
    (None, "Пандусы у входов в метробус",
     "Пандусы и поручни на тридцати остановках.", 1_600_000, ACCESS, 2),
    (None, "Камеры и освещение на детских площадках",
     "Освещение и кнопки вызова помощи на двадцати площадках.", 2_900_000, LIGHT, 3),
    (2, "Уличный баскетбол у Политеха",
     "Две площадки с покрытием и сетками.", 800_000, SPORT, 1),
)


def seed_jury_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                    categories: list[Category], writers: list[int],
                    jury_id: int) -> list[tuple[Idea, str]]:
    """Round 5 is in jury review; the demo jury member chairs it, no idea is assessed yet."""
    from jury.models import RoundJury

    assert contest.id is not None
    round_ = Round(contest_id=contest.id, number=5, title="Экспертиза жюри", created_at=now,
                   max_ideas_per_day=len(JURY_IDEAS) + 3)
    db.add(round_)
    db.flush()
    assert round_.id is not None
    _schedule(db, round_.id, now - timedelta(days=50),
              ((Phase.SUBMISSION, 20), (Phase.MODERATION, 15), (Phase.JURY_REVIEW, 31),
               (Phase.VOTING, 14), (Phase.RESULTS, 30)))
    db.add(RoundPot(round_id=round_.id, district_id=districts[2].id,
                    budget=round(districts[2].population * SOM_PER_RESIDENT, -5)))
    db.add(RoundPot(round_id=round_.id, district_id=None, budget=5_000_000))
    db.add(RoundJury(round_id=round_.id, chair_user_id=jury_id, updated_at=now))
    made = _ideas(db, round_, JURY_IDEAS, districts, categories, writers,
                  now - timedelta(days=30))
    db.flush()
    return made


COUNT_IDEAS: tuple[tuple[int | None, str, str, int, int, int], ...] = (
    (3, "Остановки с навесами на улице Льва Толстого",
     "Шесть остановок с навесами и скамейками.", 900_000, STREETS, 2),
    (3, "Детский сад: новая игровая площадка",
     "Площадка для детского сада № 102.", 600_000, CHILDREN, 3),
    (3, "Озеленение бульвара на Жибек-Жолу", "Двести деревьев и капельный полив.",
     1_000_000, PARKS, 0),
    (None, "Общественные питьевые краны", "Краны с фильтрами у двадцати школ.", 1_400_000,
     WATER, 1),
    (None, "Освещение стадиона Спартак", "Прожекторы для вечерних занятий.", 2_100_000,
     LIGHT, 2),
)
#: Paper ballots of the counting round: (indices of COUNT_IDEAS, how many sheets).
COUNT_BALLOTS = (((0, 1), 7), ((2,), 5), ((1, 2), 4), ((3,), 6), ((3, 4), 5), ((4,), 3))


def seed_counting_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                        categories: list[Category], writers: list[int]) -> None:
    """Round 6: voting closed two days ago and nobody has counted: the jury or an admin counts
    and publishes it on /rounds/6/results."""
    from voting.models import BallotItem, Channel, PotVoting, RoundVoting
    from voting.services import Voter, ballot_key, cast_ballot

    assert contest.id is not None
    round_ = Round(contest_id=contest.id, number=6, title="Подсчёт голосов", created_at=now,
                   max_ideas_per_day=len(COUNT_IDEAS) + 3)
    db.add(round_)
    db.flush()
    assert round_.id is not None
    _schedule(db, round_.id, now - timedelta(days=90),
              ((Phase.SUBMISSION, 30), (Phase.JURY_REVIEW, 25), (Phase.VOTING, 33),
               (Phase.COUNTING, 14), (Phase.RESULTS, 60)))
    pots = {3: RoundPot(round_id=round_.id, district_id=districts[3].id, budget=1_600_000),
            None: RoundPot(round_id=round_.id, district_id=None, budget=3_500_000)}
    db.add_all(pots.values())
    db.flush()
    db.add(RoundVoting(round_id=round_.id, verified_only=False, updated_at=now))
    for pot in pots.values():
        db.add(PotVoting(round_id=round_.id, pot_id=pot.id or 0, kind="approval"))
    made = _ideas(db, round_, COUNT_IDEAS, districts, categories, writers,
                  now - timedelta(days=80))
    for position, ((idea, _slug), row) in enumerate(zip(made, COUNT_IDEAS, strict=True)):
        db.add(BallotItem(round_id=round_.id, idea_id=idea.id or 0, cost=row[3],
                          position=position, pot_id=pots[row[0]].id or 0))
    db.flush()
    key = ballot_key("demo-ballots")
    sheet = 0
    for chosen, sheets in COUNT_BALLOTS:
        pot = pots[COUNT_IDEAS[chosen[0]][0]]
        for _n in range(sheets):
            sheet += 1
            voter = Voter(Channel.PAPER, id_hash=f"demo-count-sheet-{sheet:04d}")
            cast_ballot(db, round_.id or 0, pot.id or 0, voter,
                        {made[i][0].id or 0: 1 for i in chosen}, key=key,
                        now=now - timedelta(days=5), replace=False)
