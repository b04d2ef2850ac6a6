"""The demo city: Bishkek's four districts, a contest open for ideas, and one person per role."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from contests.models import Category, Contest, Phase, Round, RoundPhase, RoundPot
from core.accounts.passwords import hash_password
from core.models import District, Role, RoleGrant, User
from ideas.forms import IdeaData
from ideas.models import IdeaStatus
from ideas.services import create_idea

DISTRICTS = (
    ("leninsky", "Ленинский район", "Ленин району", "Leninsky district", 330_000),
    ("oktyabrsky", "Октябрьский район", "Октябрь району", "Oktyabrsky district", 280_000),
    ("pervomaisky", "Первомайский район", "Биринчи май району", "Pervomaisky district",
     230_000),
    ("sverdlovsky", "Свердловский район", "Свердлов району", "Sverdlovsky district", 260_000),
)

#: (e-mail, password, display name, roles). Printed by `shaar seed-demo` and in the README.
DEMO_PEOPLE = (
    ("admin@demo.shaar.kg", "demo-admin-pass", "Айгуль Адмиралиева", (Role.ADMIN,)),
    ("moderator@demo.shaar.kg", "demo-moderator-pass", "Марат Модератов", (Role.MODERATOR,)),
    ("jury@demo.shaar.kg", "demo-jury-pass", "Жылдыз Жюриева", (Role.JURY,)),
    ("resident@demo.shaar.kg", "demo-resident-pass", "Бакыт Жашоочуев", ()),
)

CATEGORIES = (
    ("parks", "Парки и дворы", "Сейилбактар жана короолор", "Parks and courtyards"),
    ("streets", "Улицы и транспорт", "Көчөлөр жана транспорт", "Streets and transport"),
    ("sport", "Спорт и отдых", "Спорт жана эс алуу", "Sport and leisure"),
    ("water", "Вода и экология", "Суу жана экология", "Water and environment"),
)

#: (district index or None for city-wide, category index, title, summary, cost)
IDEAS = (
    (0, 0, "Скамейки и тень во дворе на Токтогула 125",
     "Поставить шесть скамеек и посадить деревья у детской площадки.", 450_000),
    (1, 1, "Освещение пешеходной дорожки вдоль Ала-Арчи",
     "Фонари на солнечных батареях на 800 метрах дорожки.", 1_200_000),
    (2, 1, "Велодорожка по улице Жибек-Жолу",
     "Отделённая велодорожка от Советской до Эркиндик.", 3_500_000),
    (3, 2, "Открытая спортплощадка в 12 микрорайоне",
     "Турники, брусья и резиновое покрытие для жителей всех возрастов.", 900_000),
    (None, 3, "Питьевые фонтанчики в парках города",
     "Десять фонтанчиков с питьевой водой в крупных парках Бишкека.", 700_000),
)


class DemoRefused(RuntimeError):
    pass


def is_empty(db: Session) -> bool:
    return db.exec(select(func.count()).select_from(District)).one() == 0


def seed(db: Session, now: datetime) -> list[tuple[str, str, str]]:
    """Create the demo city in an empty database. Returns (role, e-mail, password) rows."""
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
    db.flush()
    resident = people[-1][0]
    resident.district_id = districts[0].id
    resident.is_verified, resident.verified_via, resident.verified_at = True, "admin", now
    for user, roles, _password in people:
        for role in roles:
            assert user.id is not None
            db.add(RoleGrant(user_id=user.id, role=role, granted_at=now))
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
        db.add(RoundPot(round_id=round_.id, district_id=district.id, budget=5_000_000))
    db.add(RoundPot(round_id=round_.id, district_id=None, budget=10_000_000))
    start = now - timedelta(days=7)
    schedule = ((Phase.SUBMISSION, 37), (Phase.MODERATION, 14), (Phase.JURY_REVIEW, 21),
                (Phase.VOTING, 14), (Phase.RESULTS, 30))
    for phase, days in schedule:
        db.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=start,
                          ends_at=start + timedelta(days=days)))
        start += timedelta(days=days)
    author = people[-1][0]
    assert author.id is not None
    for district_index, category_index, title, summary, cost in IDEAS:
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[category_index].id,
                        district_id=districts[district_index].id
                        if district_index is not None else None,
                        estimated_cost=cost, address="", latitude=None, longitude=None)
        create_idea(db, round_, author.id, data, now, status=IdeaStatus.PUBLISHED)
    seed_voting_round(db, now, contest, districts, categories, author.id)
    seed_moderation(db, now, round_, author.id)
    seed_results_round(db, now, contest, districts, categories, author.id)
    from surveys.demo import seed_demo_surveys
    seed_demo_surveys(db, now, districts)
    return [(", ".join(roles) or Role.RESIDENT, user.email or "", password)
            for user, roles, password in people]


#: (district index or None, title, summary, cost) of the demo round that is voting now.
VOTING_IDEAS = (
    (0, "Детская площадка во дворе на Московской 150",
     "Горка, качели и мягкое покрытие для детей до 12 лет.", 800_000),
    (0, "Ремонт тротуара на улице Боконбаева",
     "Новый тротуар и пандусы на 600 метрах от Логвиненко до Манаса.", 1_200_000),
    (0, "Скверик с деревьями у школы № 61",
     "Сорок деревьев, скамейки и капельный полив.", 600_000),
    (0, "Уличные тренажёры в парке Ата-Тюрк",
     "Десять тренажёров и навес для занятий в любую погоду.", 700_000),
    (None, "Велопарковки у станций метробуса",
     "Сто крытых велопарковок у остановок по всему городу.", 1_500_000),
    (None, "Общественные туалеты в центральных парках",
     "Пять доступных туалетов с пандусами.", 2_500_000),
    (None, "Навигация для людей с нарушением зрения",
     "Тактильная плитка и звуковые сигналы на двадцати переходах.", 900_000),
)


def seed_voting_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                      categories: list[Category], author_id: int) -> None:
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
    for position, (district_index, title, summary, cost) in enumerate(VOTING_IDEAS):
        district = districts[district_index] if district_index is not None else None
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[position % len(categories)].id,
                        district_id=district.id if district else None, estimated_cost=cost,
                        address="", latitude=None, longitude=None)
        idea = create_idea(db, round_, author_id, data, now, status=IdeaStatus.PUBLISHED)
        assert idea.id is not None
        db.add(BallotItem(round_id=round_.id, idea_id=idea.id, cost=cost, position=position,
                          pot_id=district_pot.id if district else city_pot.id))
    db.flush()


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

WAITING = (
    ("Урны для раздельного сбора мусора у школы № 5",
     "Три контейнера для пластика, бумаги и стекла у входа в школу.", 150_000),
    ("Пандус у поликлиники № 3", "Пологий пандус с перилами у главного входа.", 400_000),
)


def seed_moderation(db: Session, now: datetime, round_: Round, author_id: int) -> None:
    """Rejection reasons, and two ideas waiting in the moderators' queue."""
    from moderation.models import RejectionReason

    for position, (slug, ru, ky, en) in enumerate(REASONS):
        db.add(RejectionReason(slug=slug, text_ru=ru, text_ky=ky, text_en=en,
                               position=position))
    for title, summary, cost in WAITING:
        data = IdeaData(title=title, summary=summary, description=summary, category_id=None,
                        district_id=None, estimated_cost=cost, address="", latitude=None,
                        longitude=None)
        create_idea(db, round_, author_id, data, now, status=IdeaStatus.SUBMITTED)


#: (district index or None, title, summary, cost) of the demo round with published results.
RESULT_IDEAS = (
    (1, "Детская площадка в 6 микрорайоне", "Качели, горка и песочница.", 900_000),
    (1, "Освещение двора на Ахунбаева 98", "Двенадцать фонарей во дворе.", 400_000),
    (1, "Ремонт арыков на улице Горького", "Чистка и бетонирование арыков.", 700_000),
    (None, "Зелёный маршрут вдоль Ала-Арчи", "Деревья и дорожки вдоль реки.", 2_000_000),
    (None, "Скамейки на остановках", "Сто скамеек с навесами.", 1_200_000),
    (None, "Бесплатный Wi-Fi в парках", "Точки доступа в пяти парках.", 1_500_000),
)

#: Demo paper ballots of the finished round: (indices of RESULT_IDEAS, how many sheets).
RESULT_BALLOTS = (((0, 1), 9), ((1, 2), 6), ((0,), 4), ((2,), 3), ((3, 4), 8), ((5,), 5),
                  ((4,), 4), ((3,), 3))


def seed_results_round(db: Session, now: datetime, contest: Contest, districts: list[District],
                       categories: list[Category], author_id: int) -> None:
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
    for position, (district_index, title, summary, cost) in enumerate(RESULT_IDEAS):
        district = districts[district_index] if district_index is not None else None
        data = IdeaData(title=title, summary=summary, description=summary,
                        category_id=categories[position % len(categories)].id,
                        district_id=district.id if district else None, estimated_cost=cost,
                        address="", latitude=None, longitude=None)
        idea = create_idea(db, round_, author_id, data, now - timedelta(days=110),
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
            cast_ballot(db, round_, pot.id or 0, voter, {ideas[i]: 1 for i in chosen},
                        key=key, now=voting_day, replace=False)
    counted = now - timedelta(days=35)
    run: ResultRun = count_round(db, round_, None, counted)
    publish(db, round_, run.id or 0, "Жюри проверило подсчёт и утверждает победителей. "
            "Бюллетени опубликованы, любой может пересчитать итоги.", [], None,
            counted + timedelta(days=1))
    from tracking.demo import seed_tracking

    seed_tracking(db, round_.id, now)
