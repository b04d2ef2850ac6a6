"""A whole round in Chromium, person by person: a resident signs up and proposes an idea with
a photo, a moderator publishes it, a juror admits it to the ballot, the resident votes in both
budgets, two clerks enter the same paper ballot, the jury counts and publishes, and the
resident checks the receipt and downloads the pot's pabulib file.

Three passes, each on a round of its own: Russian with JavaScript on, Kyrgyz and English with
it off, between them covering every ballot type (knapsack and ranked ballots are also tried in
Russian by test_voting.py). The round's phases are moved along by writing their dates into the
live server's database between steps. Every page is screenshotted into test-artifacts/ and
checked with axe-core (WCAG 2.2 AA, serious and critical violations fail).

Then a ballot is filled in, reviewed and cast with the keyboard alone, with JavaScript on
(Kyrgyz) and off (Russian).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from contests.models import Contest, Phase, Round, RoundPhase, RoundPot
from core.db import Database, make_database
from core.models import District, Role, User, utcnow
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus
from ideas.services import create_idea
from jury.models import RoundJury
from tests.browser.axe_check import AxeChecker
from tests.browser.conftest import Watched
from tests.browser.test_idea_journey import photo
from tests.helpers import make_user, set_phase
from voting.models import BallotItem, PaperSheet, PotVoting, RoundVoting, SheetStatus

CLERKS = (("clerk-one@journey.kg", "clerk-one-password"),
          ("clerk-two@journey.kg", "clerk-two-password"))
MODERATOR = ("moderator@demo.shaar.kg", "demo-moderator-pass")
JUROR = ("jury@demo.shaar.kg", "demo-jury-pass")

#: Per ballot type: the pot's settings, and how the resident and the paper ballot mark it.
SETUPS = {
    "approval": {"max_choices": 3},
    "knapsack": {},
    "cumulative": {"points_total": 10, "max_points_per_project": 6},
    "ordinal": {"max_choices": 3},
}
#: Three ready projects per pot, costs in som (the journey's own idea joins the district's).
PROJECTS = (("Скамейки у фонтана", 600_000), ("Тротуар до школы", 900_000),
            ("Деревья во дворе", 700_000))


@dataclass(frozen=True)
class Pass:
    lang: str
    js: bool
    district: str
    kinds: tuple[str, str]  # the district's pot, the city-wide pot
    viewport: tuple[int, int] = (390, 844)

    @property
    def name(self) -> str:
        return f"{self.lang}-{'js' if self.js else 'nojs'}"


PASSES = [Pass("ru", True, "oktyabrsky", ("approval", "cumulative")),
          Pass("ky", False, "pervomaisky", ("cumulative", "approval")),
          Pass("en", False, "sverdlovsky", ("knapsack", "ordinal"), (1280, 900))]


@pytest.fixture(scope="module")
def live_db(live_server: str, live_database_url: str) -> Iterator[Database]:
    """The live server's own database, for the steps that only move time along."""
    database = make_database(live_database_url)
    for email, password in CLERKS:
        make_user(database, email, name=f"Секретарь {email[:9]}", roles=(Role.CLERK,),
                  password=password)
    yield database
    database.dispose()


def journey_round(database: Database, p: Pass, slug: str = "journey") -> SimpleNamespace:
    """A contest of last year with one round in its submission phase: a pot for the pass's
    district and a city-wide one, each with its ballot type and three projects already
    admitted, and the demo juror as the chair of the jury."""
    now = utcnow()
    with database.session(write=True) as s:
        district = s.exec(select(District).where(District.slug == p.district)).one()
        author = s.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        juror = s.exec(select(User).where(User.email == JUROR[0])).one()
        contest = Contest(slug=f"{slug}-{p.name}", title=f"{slug} {p.name} <contest> & co",
                          year=now.year, created_at=now)
        s.add(contest)
        s.flush()
        round_ = Round(contest_id=contest.id or 0, number=1, title=f"{slug} {p.name} round",
                       max_ideas_per_day=10, created_at=now)
        s.add(round_)
        s.flush()
        assert round_.id is not None
        for phase in (Phase.SUBMISSION, Phase.MODERATION, Phase.JURY_REVIEW, Phase.VOTING,
                      Phase.COUNTING, Phase.RESULTS):  # set_phase() below lays them out
            s.add(RoundPhase(round_id=round_.id, phase=phase, starts_at=now,
                             ends_at=now + timedelta(days=1)))
        pots = [RoundPot(round_id=round_.id, district_id=district.id, budget=2_000_000),
                RoundPot(round_id=round_.id, district_id=None, budget=3_000_000)]
        s.add_all(pots)
        s.flush()
        s.add(RoundVoting(round_id=round_.id, verified_only=False, updated_at=now))
        s.add(RoundJury(round_id=round_.id, chair_user_id=juror.id, updated_at=now))
        position = 0
        for pot, kind in zip(pots, p.kinds, strict=True):
            s.add(PotVoting(round_id=round_.id, pot_id=pot.id or 0, kind=kind, min_choices=1,
                            **SETUPS[kind]))
            for title, cost in PROJECTS:
                data = IdeaData(title=f"{title} ({kind})", summary="Готовый проект.",
                                description="", category_id=None, district_id=pot.district_id,
                                estimated_cost=cost, address="", latitude=None, longitude=None)
                idea = create_idea(s, round_, author.id or 0, data, now, IdeaStatus.PUBLISHED)
                idea.status = IdeaStatus.ADMITTED
                s.add(idea)
                s.add(BallotItem(round_id=round_.id, pot_id=pot.id or 0, idea_id=idea.id or 0,
                                 cost=cost, position=position))
                position += 1
        from core.accounts.services import census_hash
        from core.models import CensusEntry

        hashed = census_hash("", "AN 1234567")  # the clerks' paper voter is on the census
        entry = s.exec(select(CensusEntry).where(CensusEntry.id_hash == hashed)).first()
        if entry is None:
            entry = CensusEntry(id_hash=hashed, district_id=district.id or 0, batch="journey")
        entry.district_id = district.id or 0  # each journey's district is a new one
        s.add(entry)
        ids = SimpleNamespace(round=round_.id, district=district.id,
                              pots=[pot.id for pot in pots])
    set_phase(database, ids.round, Phase.SUBMISSION)
    return ids


@dataclass
class Journey:
    """One pass: the people taking part, each in a browser context of their own, and the
    screenshots and accessibility checks of every step."""

    browser: Any
    base: str
    p: Pass
    axe: AxeChecker
    database: Database
    log: Path
    slug: str = "journey"
    people: list[Watched] = field(default_factory=list)
    steps: int = 0

    @property
    def prefix(self) -> str:
        return f"{self.slug}-{self.p.name}"

    def person(self) -> Watched:
        context = self.browser.new_context(
            java_script_enabled=self.p.js, locale=self.p.lang,
            extra_http_headers={"Accept-Language": self.p.lang},
            viewport={"width": self.p.viewport[0], "height": self.p.viewport[1]})
        watched = Watched(context.new_page(), self.base)
        # where an error was logged, for the failure message
        watched.page.on("console", lambda m: watched.errors.append(
            f"  (at {watched.page.url}, from {m.location.get('url')})")
            if m.type == "error" else None)
        self.people.append(watched)
        return watched

    def step(self, who: Watched, name: str) -> None:
        """Screenshot the page as it is now and check it with axe-core."""
        page = who.page
        assert page.locator("html").get_attribute("lang") == self.p.lang, page.url
        self.steps += 1
        where = f"{self.prefix}-{self.steps:02d}-{name}"
        who.shot(where)
        self.axe.check(page, where)

    def sign_in(self, who: Watched, email: str, password: str) -> None:
        page = who.page
        page.goto(f"{self.base}/signin")
        page.fill("#field-email", email)
        page.fill("#field-password", password)
        page.click("form[action='/signin'] button[type=submit]")
        page.wait_for_url(f"{self.base}/")
        expect(page.locator(".flash")).to_have_count(1)

    def mail_link(self, email: str, path: str) -> str:
        """The last link to `path` mailed to `email` (development prints mail to the log).
        The server sends its outbox just after the answer, so the mail may take a moment."""
        deadline = time.monotonic() + 10
        while True:
            mails = re.findall(r"--- mail to (\S+) ---\n(.*?)--- end of mail ---",
                               self.log.read_text(encoding="utf-8"), re.S)
            links = [link for to, body in mails if to == email
                     for link in re.findall(rf"{re.escape(self.base)}{path}\S+", body)]
            if links or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert links, f"no {path} link mailed to {email}"
        return links[-1]

    def close(self) -> None:
        for who in self.people:
            who.page.context.close()


@pytest.fixture(scope="module")
def axe(browser: Any) -> Iterator[AxeChecker]:
    checker = AxeChecker(browser)
    yield checker
    checker.close()


@pytest.mark.parametrize("p", PASSES, ids=[p.name for p in PASSES])
def test_a_round_from_idea_to_published_results(browser: Any, live_server: str, live_var: Path,
                                                live_db: Database, axe: AxeChecker,
                                                tmp_path: Path, p: Pass) -> None:
    ids = journey_round(live_db, p)
    journey = Journey(browser, live_server, p, axe, live_db, live_var / "server.log")
    try:
        resident = propose_an_idea(journey, ids, tmp_path)
        reference = resident.page.url.rsplit("/", 1)[1]
        with live_db.session() as s:
            idea = s.exec(select(Idea).where(Idea.reference == reference)).one()
        assert idea.status == IdeaStatus.SUBMITTED
        publish_it(journey, ids, idea)
        set_phase(live_db, ids.round, Phase.JURY_REVIEW)
        juror = admit_it(journey, idea)
        set_phase(live_db, ids.round, Phase.VOTING)
        receipts = [vote(journey, resident, ids, pot, kind, idea)
                    for pot, kind in zip(ids.pots, p.kinds, strict=True)]
        enter_paper_ballots(journey, ids, idea)
        set_phase(live_db, ids.round, Phase.COUNTING)
        count_and_publish(journey, juror, ids)
        set_phase(live_db, ids.round, Phase.RESULTS)
        check_receipt_and_download(journey, resident, ids, receipts[0], idea)
        for who in journey.people:
            assert who.errors == [] and who.foreign == [], (who.errors, who.foreign)
    finally:
        journey.close()
    assert_accessible(axe, journey)


def assert_accessible(axe: AxeChecker, journey: Journey) -> None:
    """Every step of the journey was checked, and none has a serious or critical problem."""
    mine = [f for f in axe.findings if f.where.startswith(journey.prefix)]
    assert len(mine) == journey.steps
    failing = [f for f in mine if f.violations]
    assert not failing, ("axe-core found serious or critical WCAG 2.2 AA violations:\n"
                         + axe.report(failing))


def propose_an_idea(journey: Journey, ids: SimpleNamespace, tmp_path: Path) -> Watched:
    base, p = journey.base, journey.p
    resident = journey.person()
    page = resident.page
    email = f"resident-{p.lang}@journey.kg"
    page.goto(f"{base}/signup")
    journey.step(resident, "signup")
    page.fill("#field-email", email)
    page.fill("#field-display_name", f"Жительница <{p.lang}> & Co")
    page.fill("#field-password", "a journey through the round")
    page.fill("#field-password_confirm", "a journey through the round")
    page.check("#field-accept_terms")
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{base}/signin")
    journey.step(resident, "signup-mailed")
    page.goto(journey.mail_link(email, "/confirm/"))
    journey.step(resident, "confirm")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/signin")
    journey.sign_in(resident, email, "a journey through the round")
    page.goto(f"{base}/account")
    page.select_option("#field-district", str(ids.district))
    page.click("form[action='/account'] button[type=submit]")
    expect(page.locator("#field-district")).to_have_value(str(ids.district))
    journey.step(resident, "profile-with-district")
    page.goto(f"{base}/rounds/{ids.round}")
    journey.step(resident, "round-open-for-ideas")
    page.click(f"a[href='/rounds/{ids.round}/ideas/new']")
    journey.step(resident, "idea-form")
    title = f"Фонари во дворе «{p.lang}» & <b>свет</b>"
    page.fill("#field-title", title)
    page.fill("#field-summary", "Поставить четыре фонаря у подъездов дома 12.")
    page.fill("#field-description", "Во дворе темно.\n\nПодробнее: https://bishkek.kg")
    page.select_option("#field-category", index=1)
    page.select_option("#field-district", str(ids.district))
    page.fill("#field-estimated_cost", "300 000")
    page.set_input_files("#field-photos", str(photo(tmp_path)))
    page.click("button[name=action][value=submit]")
    page.wait_for_url(re.compile(r"/ideas/\d{4}-\d+$"))
    assert page.locator("h1").inner_text() == title
    expect(page.locator(".gallery img")).to_have_count(1)
    journey.step(resident, "idea-submitted")
    return resident


def publish_it(journey: Journey, ids: SimpleNamespace, idea: Idea) -> None:
    """With JavaScript the moderator decides in the queue in place; without, on the idea's
    own review page."""
    base = journey.base
    moderator = journey.person()
    page = moderator.page
    journey.sign_in(moderator, *MODERATOR)
    page.goto(f"{base}/moderation?round={ids.round}")
    journey.step(moderator, "moderation-queue")
    if journey.p.js:
        page.click(f"#item-{idea.id} button[data-shortcut=p]")
        expect(page.locator(f"#item-{idea.id}.decided")).to_have_count(1)
        journey.step(moderator, "moderation-decided-in-place")
    else:
        page.click(f"#item-{idea.id} h2 a")
        journey.step(moderator, "moderation-review")
        page.click("form.decision button[data-shortcut=p]")
        expect(page.locator(".flash")).to_have_count(1)
        journey.step(moderator, "moderation-published")
    page.goto(f"{base}/ideas/{idea.reference}")
    expect(page.locator(".gallery img")).to_have_count(1)
    journey.step(moderator, "idea-published")


def admit_it(journey: Journey, idea: Idea) -> Watched:
    base = journey.base
    juror = journey.person()
    page = juror.page
    journey.sign_in(juror, *JUROR)
    page.goto(f"{base}/jury")
    journey.step(juror, "jury-rounds")
    page.goto(f"{base}/jury/rounds/{idea.round_id}")
    journey.step(juror, "jury-round")
    page.click(f"a[href='/jury/ideas/{idea.reference}']")
    journey.step(juror, "jury-idea")
    page.check("input[name=feasible][value=yes]")
    page.fill("#a-final_cost", "320 000")
    page.fill("#a-score", "8")
    page.click(f"form[action='/jury/ideas/{idea.reference}/assess'] button[type=submit]")
    expect(page.locator(".flash")).to_have_count(1)
    expect(page.locator("#c-cost")).to_have_value("320000")
    journey.step(juror, "jury-assessed")
    page.click(f"form[action='/jury/ideas/{idea.reference}/confirm']:has(#c-cost) button")
    expect(page.locator(".flash")).to_have_count(1)
    journey.step(juror, "jury-admitted")
    return juror


def vote(journey: Journey, resident: Watched, ids: SimpleNamespace, pot: int, kind: str,
         idea: Idea) -> str:
    """Fill in the ballot of one pot (the journey's idea and one more project), review it,
    cast it; the receipt's code."""
    base = journey.base
    page = resident.page
    page.goto(f"{base}/rounds/{ids.round}/vote")
    if pot == ids.pots[0]:
        journey.step(resident, "vote-home")
    page.click(f"main a[href='/rounds/{ids.round}/vote/{pot}']")
    page.wait_for_url(f"**/rounds/{ids.round}/vote/{pot}")
    journey.step(resident, f"ballot-{kind}")
    items = page.locator(".ballot-item")
    others = [i for i in (items.nth(n).get_attribute("id") or "" for n in range(items.count()))
              if i != f"item-{idea.id}"]
    chosen = [idea.id, int(others[1].removeprefix("item-"))] if pot == ids.pots[0] else [
        int(others[0].removeprefix("item-")), int(others[2].removeprefix("item-"))]
    for n, choice in enumerate(chosen, start=1):
        if kind == "cumulative":
            page.fill(f"#points-{choice}", str(6 if n == 1 else 4))
        page.click(f"#act-{choice}")
        expect(page.locator(".ballot-item.chosen")).to_have_count(n)
    if kind == "ordinal":
        page.click(f"#up-{chosen[1]}")
        expect(page.locator(f"#up-{chosen[1]}")).to_have_count(0)
    journey.step(resident, f"ballot-{kind}-filled")
    page.click("#review-link")
    expect(page.locator(".choice-list li")).to_have_count(2)
    journey.step(resident, f"review-{kind}")
    page.click("#cast-button")
    page.wait_for_url("**/receipts/*")
    code = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", code)
    journey.step(resident, f"receipt-{kind}")
    return code


def enter_paper_ballots(journey: Journey, ids: SimpleNamespace, idea: Idea) -> None:
    """The same ballot paper for the district's pot, entered by two clerks: counted once
    both entries agree."""
    base, p = journey.base, journey.p
    mark = {"approval": "1", "knapsack": "1", "cumulative": "5", "ordinal": "1"}[p.kinds[0]]
    flashes = []
    for n, (email, password) in enumerate(CLERKS, start=1):
        clerk = journey.person()
        page = clerk.page
        journey.sign_in(clerk, email, password)
        page.goto(f"{base}/clerk/rounds/{ids.round}/paper")
        if n == 1:
            journey.step(clerk, "clerk-entry")
        page.fill("#field-serial", f"J-{p.lang}-0001")
        page.select_option("#field-pot", str(ids.pots[0]))
        page.fill("#field-id_number", "AN 1234567")
        page.fill(f"#field-mark_{idea.id}", mark)
        page.click(f"form[action='/clerk/rounds/{ids.round}/paper'] button[type=submit]")
        expect(page.locator(".flash")).to_have_count(1)
        flashes.append(page.locator(".flash").get_attribute("class") or "")
        journey.step(clerk, f"clerk-entered-{n}")
    assert ["flash-error" in f for f in flashes] == [False, False]
    with journey.database.session() as s:
        sheet = s.exec(select(PaperSheet).where(PaperSheet.round_id == ids.round)).one()
        assert sheet.status == SheetStatus.COUNTED


def count_and_publish(journey: Journey, juror: Watched, ids: SimpleNamespace) -> None:
    base = journey.base
    page = juror.page
    page.goto(f"{base}/rounds/{ids.round}/results")
    journey.step(juror, "results-to-count")
    page.click(f"form[action='/rounds/{ids.round}/results/count'] button")
    expect(page.locator("#statement")).to_have_count(1)
    journey.step(juror, "results-counted")
    page.fill("#statement", "Жюри проверило подсчёт: бумажный бюллетень введён дважды.")
    page.click(f"form[action='/rounds/{ids.round}/results/publish'] button[type=submit]")
    expect(page.locator("#statement")).to_have_count(0)
    expect(page.locator(".flash")).to_have_count(1)
    journey.step(juror, "results-published")


def check_receipt_and_download(journey: Journey, resident: Watched, ids: SimpleNamespace,
                               code: str, idea: Idea) -> None:
    base = journey.base
    page = resident.page
    page.goto(f"{base}/receipts")
    page.fill("#field-code", code)
    page.click("main form button[type=submit]")
    expect(page.locator("#check-result")).to_have_count(1)
    assert page.locator("#check-result .flash-error").count() == 0
    journey.step(resident, "receipt-checked")
    page.goto(f"{base}/rounds/{ids.round}/results")
    journey.step(resident, "results-public")
    link = page.locator(f"a[href='/rounds/{ids.round}/results/pots/{ids.pots[0]}.pb']")
    with page.expect_download() as info:
        link.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    sections = dict(re.findall(r"^(META|PROJECTS|VOTES)\n(.*?)(?=^(?:PROJECTS|VOTES)\n|\Z)",
                               text, re.S | re.M))
    meta = dict(line.split(";", 1) for line in sections["META"].splitlines()[1:])
    assert meta["num_votes"] == "2"  # the resident's ballot and the paper one
    votes = sections["VOTES"].splitlines()[1:]
    assert len(votes) == 2 and all(str(idea.id) in v.split(";")[1].split(",") for v in votes)




KEYBOARD = [Pass("ky", True, "leninsky", ("knapsack", "ordinal")),
            Pass("ru", False, "leninsky", ("knapsack", "ordinal"))]


def tab_to(page: Any, selector: str, limit: int = 80) -> int:
    """Press Tab until `selector` has the focus; how many presses it took. On the way, no
    focused control may hide under the sticky budget meter (WCAG 2.4.11)."""
    for presses in range(limit):
        if page.locator(f"{selector}:focus").count():
            return presses
        page.keyboard.press("Tab")
        focused, meter = page.locator(":focus"), page.locator("#meter")
        if focused.count() and meter.count():
            box, cover = focused.bounding_box(), meter.bounding_box()
            if box and cover and box["y"] >= cover["y"] - 1:
                hidden = box["y"] + box["height"] <= cover["y"] + cover["height"] + 1
                assert not hidden, (f"{focused.evaluate('e => e.outerHTML')[:120]} is under "
                                    f"the budget meter")
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab")


@pytest.mark.parametrize("p", KEYBOARD, ids=[p.name for p in KEYBOARD])
def test_a_ballot_is_filled_in_and_cast_with_the_keyboard_alone(
        browser: Any, live_server: str, live_var: Path, live_db: Database, axe: AxeChecker,
        p: Pass) -> None:
    ids = journey_round(live_db, p, slug="keyboard")
    set_phase(live_db, ids.round, Phase.VOTING)
    email = f"keyboard-{p.name}@journey.kg"
    voter = make_user(live_db, email, name="Клавиатура")
    with live_db.session(write=True) as s:
        person = s.get(User, voter.id)
        assert person is not None
        person.district_id = ids.district
        s.add(person)
    journey = Journey(browser, live_server, p, axe, live_db, live_var / "server.log",
                      slug="keyboard")
    try:
        who = journey.person()
        journey.sign_in(who, email, "correct horse battery")
        page = who.page
        page.goto(f"{live_server}/rounds/{ids.round}/vote/{ids.pots[0]}")
        first, second = [(page.locator(".ballot-item").nth(n).get_attribute("id") or "")[5:]
                         for n in (0, 1)]
        tab_to(page, f"#act-{first}")
        page.keyboard.press("Enter")
        expect(page.locator(".ballot-item.chosen")).to_have_count(1)
        page.wait_for_load_state()  # without JavaScript, keys pressed while loading are lost
        if p.js:  # the basket is swapped in place: the focus stays on the same control
            expect(page.locator(f"#act-{first}")).to_be_focused()
        # Without JavaScript the answer is a new page at #item-<id>, where Tab carries on
        # from: either way the next project is a few presses away, not back at the top.
        assert tab_to(page, f"#act-{second}") <= 4
        page.keyboard.press("Enter")
        expect(page.locator(".ballot-item.chosen")).to_have_count(2)
        page.wait_for_load_state()
        journey.step(who, "keyboard-ballot")
        tab_to(page, "#review-link")
        page.keyboard.press("Enter")
        page.wait_for_url("**/review")
        journey.step(who, "keyboard-review")
        tab_to(page, "#cast-button")
        page.keyboard.press("Enter")
        page.wait_for_url("**/receipts/*")
        assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#receipt-code").inner_text().strip())
        expect(page.locator(".choice-list li")).to_have_count(2)
        journey.step(who, "keyboard-receipt")
        assert who.errors == [] and who.foreign == []
    finally:
        journey.close()
    assert_accessible(axe, journey)
