"""Every route, as every kind of person, in a round in every phase: exactly the answer that
tests/permission_table.py says. A route without an entry there fails; so does a stale
docs/permissions.md. And every form refuses a request without its CSRF token."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import pytest
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import select
from starlette.routing import Route
from starlette.testclient import TestClient

from contests.models import Category, Contest, Phase, Round, RoundPhase, RoundPot
from core.db import Database
from core.models import District, RoleGrant, User, utcnow
from core.security import csrf_token
from core.sessions import start_session
from core.settings import Settings
from ideas.forms import IdeaData
from ideas.models import Attachment, Comment, IdeaStatus
from ideas.services import create_idea
from tests.helpers import HOSTILE, csrf_of, make_user, sign_in
from tests.permission_table import (
    ANSWERS,
    CLOSED,
    DEFAULT_PHASE,
    DOC,
    PHASES,
    PLACEHOLDERS,
    ROLES,
    SIGN_IN,
    TABLE,
    YES,
    E,
    render_doc,
)
from tests.voting.factories import make_voting_round

STAFF_ROLES = {"moderator": "moderator", "jury": "jury", "clerk": "clerk", "admin": "admin"}
#: The order people are tested in: the author last, so that what the author may change (a
#: withdrawn idea, a deleted photo) does not change what the others are asked about.
RUN_ORDER = ("anonymous", "resident", "moderator", "jury", "clerk", "admin", "author")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")


# --- the world -------------------------------------------------------------------------

def _idea(s: Any, round_: Round, author_id: int, status: IdeaStatus, now: Any,
          district_id: int | None = None) -> Any:
    data = IdeaData(title=f"Benches {HOSTILE}", summary=f"Shade {HOSTILE}", description="",
                    category_id=None, district_id=district_id, estimated_cost=400_000,
                    address="", latitude=None, longitude=None)
    idea = create_idea(s, round_, author_id, data, now, status)
    if status == IdeaStatus.ADMITTED:
        idea.published_at = now
        s.add(idea)
    s.flush()
    return idea


def _photo(s: Any, settings: Settings, idea_id: int, author_id: int) -> Attachment:
    name = f"{secrets.token_hex(16)}.png"
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    (settings.upload_dir / name).write_bytes(PNG)
    attachment = Attachment(idea_id=idea_id, uploaded_by_id=author_id, kind="image",
                            stored_name=name, original_name=f"photo {HOSTILE}.png",
                            content_type="image/png", size=len(PNG), width=1, height=1)
    s.add(attachment)
    s.flush()
    return attachment


def _progress_photo(s: Any, settings: Settings, idea_id: int, admin_id: int, now: Any) -> str:
    from tracking.models import ProjectPhoto, ProjectUpdate

    update = ProjectUpdate(idea_id=idea_id, author_id=admin_id, status="in_progress",
                           progress=10, status_changed=True, body=f"Started {HOSTILE}",
                           created_at=now)
    s.add(update)
    s.flush()
    name = f"{secrets.token_hex(16)}.png"
    (settings.upload_dir / name).write_bytes(PNG)
    s.add(ProjectPhoto(update_id=update.id or 0, stored_name=name, original_name="site.png",
                       content_type="image/png", size=len(PNG), width=1, height=1,
                       alt=f"The site {HOSTILE}"))
    return name


def build_world(database: Database, settings: Settings,
                phases: tuple[str, ...] = PHASES) -> dict[str, Any]:
    """A contest with a round per phase (of `phases`), its ideas, ballots and results; the
    people; and per phase the values that fill an entry's {placeholders}."""
    from core.accounts.services import census_hash
    from core.models import CensusEntry
    from results.services import count_round, publish
    from voting.models import BallotItem, Channel, PaperSheet, PotVoting, RoundVoting
    from voting.services import Voter, ballot_key, cast_ballot

    now = utcnow()
    people: dict[str, int] = {}
    with database.session(write=True) as s:
        districts = [District(slug=f"d{i}", name_ru=f"Район {i}", name_ky=f"Район {i}",
                              name_en=f"District {i}") for i in (1, 2)]
        category = Category(slug="parks", name_ru="Парки", name_ky="Парктар", name_en="Parks")
        contest = Contest(slug="contest-2027", title=f"Contest {HOSTILE}", year=2027)
        s.add_all([*districts, category, contest])
        s.flush()
        for role in (*ROLES[1:], "bystander"):
            user = User(email=f"{role}@example.kg", display_name=f"{role} {HOSTILE}",
                        password_hash="!", email_confirmed_at=now, is_verified=True,
                        district_id=districts[0].id, created_at=now)
            s.add(user)
            s.flush()
            assert user.id is not None
            people[role] = user.id
            if role in STAFF_ROLES:
                s.add(RoleGrant(user_id=user.id, role=STAFF_ROLES[role], granted_at=now))
        base = {"contest": contest.id, "category": category.id, "user": people["bystander"],
                "token": "not-a-real-token", "provider": "nowhere"}
    author = people["author"]
    key = ballot_key(settings.secret_key)
    voting_at = PHASES.index(Phase.VOTING)
    fills: dict[str, dict[str, Any]] = {}
    for number, phase in enumerate(phases, start=1):
        index = PHASES.index(phase)
        with database.session(write=True) as s:
            round_ = Round(contest_id=base["contest"], number=number, title=f"Round {HOSTILE}",
                           max_ideas_per_day=20, max_supports_per_person=5)
            s.add(round_)
            s.flush()
            starts = {}
            for i, p in enumerate(PHASES):
                start = now + timedelta(days=10 * (i - index)) - timedelta(days=1)
                starts[p] = start
                s.add(RoundPhase(round_id=round_.id, phase=p, starts_at=start,
                                 ends_at=start + timedelta(days=10)))
            pots = [RoundPot(round_id=round_.id, district_id=d.id, budget=1_000_000)
                    for d in districts]
            city = RoundPot(round_id=round_.id, district_id=None, budget=3_000_000)
            s.add_all([*pots, city])
            s.flush()
            draft = _idea(s, round_, author, IdeaStatus.DRAFT, now)
            submitted = _idea(s, round_, author, IdeaStatus.SUBMITTED, now)
            changes = _idea(s, round_, author, IdeaStatus.CHANGES_REQUESTED, now)
            idea = _idea(s, round_, author, IdeaStatus.PUBLISHED, now)
            spare = _idea(s, round_, author, IdeaStatus.PUBLISHED, now)
            admitted = _idea(s, round_, author, IdeaStatus.ADMITTED, now)
            local = _idea(s, round_, author, IdeaStatus.ADMITTED, now, districts[1].id)
            draft_photo = _photo(s, settings, draft.id, author)
            photo = _photo(s, settings, idea.id, author)
            comment = Comment(idea_id=idea.id, author_id=author, body=f"Nice {HOSTILE}",
                              created_at=now)
            s.add(comment)
            s.add(RoundVoting(round_id=round_.id, verified_only=False, updated_at=now))
            s.add(PotVoting(round_id=round_.id, pot_id=city.id, kind="approval"))
            s.add(PotVoting(round_id=round_.id, pot_id=pots[1].id, kind="approval"))
            s.add(BallotItem(round_id=round_.id, pot_id=city.id, idea_id=admitted.id,
                             cost=500_000))
            s.add(BallotItem(round_id=round_.id, pot_id=pots[1].id, idea_id=local.id,
                             cost=500_000))
            sheet = PaperSheet(round_id=round_.id, serial="P-1", created_at=now)
            s.add(sheet)
            if s.exec(select(CensusEntry).where(CensusEntry.id_hash == census_hash(
                    settings.census_salt, "AN1234567"))).first() is None:
                # the probe's paper voter: on the census (paper ballots are census only)
                s.add(CensusEntry(id_hash=census_hash(settings.census_salt, "AN1234567"),
                                  district_id=districts[0].id or 0, batch="matrix"))
            s.flush()
            fill = {**base, "round": round_.id, "pot": city.id, "other_pot": pots[1].id,
                    "idea": idea.reference, "idea_id": idea.id, "idea_version": idea.version,
                    "draft": draft.reference, "draft_version": draft.version,
                    "changes": changes.reference, "submitted": submitted.reference,
                    "submitted_version": submitted.version,
                    "spare": spare.reference, "spare_version": spare.version,
                    "admitted": admitted.reference, "admitted_id": admitted.id,
                    "project_photo": f"{'0' * 32}.png", "comment": comment.id,
                    "attachment": draft_photo.id, "draft_file": draft_photo.stored_name,
                    "file": photo.stored_name, "sheet": sheet.id, "receipt": "0" * 64,
                    "run": 0}
        if index >= voting_at:
            with database.session(write=True) as s:
                fresh = s.get(Round, fill["round"])
                voter = Voter(Channel.ONLINE, person_id=people["resident"],
                              district_id=fill.get("district"), is_verified=True)
                cast_at = now if phase == Phase.VOTING else starts[Phase.VOTING] + timedelta(
                    hours=1)
                receipt = cast_ballot(s, fresh.id or 0, city.id or 0, voter, {admitted.id or 0: 1},
                                      key=key, now=cast_at)
                fill["receipt"] = receipt.entry_hash
        if index > voting_at:
            with database.session(write=True) as s:
                fresh = s.get(Round, fill["round"])
                run = count_round(s, fresh, people["admin"], now)
                fill["run"] = run.id
                if phase in (Phase.RESULTS, Phase.IMPLEMENTATION):
                    publish(s, fresh, run.id or 0, f"Statement {HOSTILE}", [], people["admin"],
                            now)
                    fill["project_photo"] = _progress_photo(s, settings, admitted.id or 0,
                                                            people["admin"], now)
        fills[phase] = fill
    response_id = _surveys(database, now)
    for fill in fills.values():
        fill["survey_response"] = response_id
    return {"people": people, "fills": fills}


def _surveys(database: Database, now: Any) -> int:
    """An open survey for accounts and a closed one whose results are published; the closed
    one has a response whose written answer waits for screening (its id is returned; the
    open survey has none, so its questions can still be edited)."""
    from surveys.models import SurveyResponse
    from surveys.template import create_city_services_survey

    with database.session(write=True) as s:
        create_city_services_survey(s, "survey-open", (now - timedelta(days=1),
                                                       now + timedelta(days=9)))
        _closed, wave = create_city_services_survey(s, "survey-closed", (
            now - timedelta(days=9), now - timedelta(days=1)))
        response = SurveyResponse(wave_id=wave.id or 0, answers={
            "improve": ["transport"], "improve_why": f"Why {HOSTILE}"})
        s.add(response)
        s.flush()
        return response.id or 0


def clients(app: Any, database: Database, settings: Settings,
            people: dict[str, int]) -> dict[str, tuple[TestClient, str]]:
    """A browser per person, signed in (a session made directly: no password hashing), and
    the CSRF token its forms carry."""
    out = {}
    now = utcnow()
    for role in ROLES:
        client = TestClient(app, follow_redirects=False)
        if role == "anonymous":
            binding = secrets.token_hex(20)
            client.cookies.set("shaar_bid", binding)
        else:
            with database.session(write=True) as s:
                user = s.get(User, people[role])
                binding = start_session(s, user, settings, now)
            client.cookies.set("shaar_session", binding)
        out[role] = (client, csrf_token(settings.secret_key, binding))
    return out


# --- asking ------------------------------------------------------------------------------

def fill_in(text: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)


def observed(response: Any, flash_signer: URLSafeSerializer) -> str:
    """The answer as the table names it."""
    code = response.status_code
    if code != 303:
        return str(code)
    if response.headers["location"].startswith("/signin?next="):
        return SIGN_IN
    raw = response.cookies.get("shaar_flash")
    try:
        flashes = flash_signer.loads(raw) if raw else []
    except BadSignature:
        flashes = []
    return "303 refused" if any(f.get("category") == "error" for f in flashes) else "303"


def ask(entry: E, client: TestClient, token: str, values: dict[str, Any]) -> Any:
    path = fill_in(entry.path, values)
    headers = {"Accept-Language": "en"}
    if entry.method == "GET":
        return client.get(path, headers=headers)
    data: dict[str, Any] = {"csrf_token": token}
    for name, value in entry.probe.items():
        data[fill_in(name, values)] = ([fill_in(v, values) for v in value]
                                       if isinstance(value, list) else fill_in(value, values))
    return client.request(entry.method, path, data=data, headers=headers)


def run_order(entries: list[E]) -> list[E]:
    """Pages first, then forms in the table's order; signing out last."""
    return sorted(entries, key=lambda e: (e.method != "GET", e.name == "accounts:signout"))


def check(app: Any, database: Database, settings: Settings, entries: list[E],
          phase: str) -> list[str]:
    world = build_world(database, settings, (phase,))
    browsers = clients(app, database, settings, world["people"])
    signer = URLSafeSerializer(settings.secret_key, salt="flash")
    values = world["fills"][phase]
    wrong = []
    for entry in run_order(entries):
        for role in RUN_ORDER:
            client, token = browsers[role]
            want = entry.answer(role, phase)
            got = observed(ask(entry, client, token, values), signer)
            if got != want:
                wrong.append(f"{entry.method} {entry.path} [{entry.name}"
                             f"{' ' + entry.case if entry.case else ''}] as {role} in "
                             f"{phase}: want {want}, got {got}")
    return wrong


# --- the tests ---------------------------------------------------------------------------

def app_routes(app: Any) -> set[tuple[str, str]]:
    return {(route.name, method) for route in app.routes if isinstance(route, Route)
            for method in (route.methods or set()) - {"HEAD"}}


def test_every_route_has_an_entry_and_every_entry_a_route(app: Any) -> None:
    listed = {(e.name, e.method) for e in TABLE}
    assert app_routes(app) - listed == set(), "add these routes to tests/permission_table.py"
    assert listed - app_routes(app) == set(), "these entries name no route"


def test_the_table_is_well_formed() -> None:
    keys = [e.key for e in TABLE]
    assert len(keys) == len(set(keys)), "two entries for one route, method and case"
    answers = set(ANSWERS) | {YES}
    for e in TABLE:
        assert set(e.who) == set(ROLES), e.key
        assert set(e.who.values()) <= answers, e.key
        assert {e.allowed, e.closed} <= set(ANSWERS), e.key
        assert CLOSED not in e.who.values(), e.key
        assert e.phases is None or (e.phases and set(e.phases) <= set(PHASES)), e.key
        assert e.method == "GET" or e.method == "POST", e.key
        assert not e.probe or e.method != "GET", e.key


def test_every_placeholder_is_explained_and_filled(app: Any, database: Database,
                                                   settings: Settings) -> None:
    used = {name for e in TABLE for text in (e.path, *e.probe, *(
        v for value in e.probe.values() for v in (value if isinstance(value, list) else [value])
    )) for name in re.findall(r"\{(\w+)\}", text)}
    assert used <= set(PLACEHOLDERS), used - set(PLACEHOLDERS)
    fills = build_world(database, settings)["fills"]
    assert all(set(PLACEHOLDERS) <= set(fills[phase]) for phase in PHASES)


def test_the_document_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render_doc(), (
        "docs/permissions.md is stale: run python -m tests.permission_table --write")


def test_routes_that_hold_in_any_phase(app: Any, database: Database,
                                       settings: Settings) -> None:
    wrong = check(app, database, settings, [e for e in TABLE if e.phases is None],
                  DEFAULT_PHASE)
    assert not wrong, "\n" + "\n".join(wrong)


@pytest.mark.parametrize("phase", PHASES)
def test_routes_that_depend_on_the_phase(app: Any, database: Database, settings: Settings,
                                         phase: str) -> None:
    wrong = check(app, database, settings, [e for e in TABLE if e.phases is not None], phase)
    assert not wrong, "\n" + "\n".join(wrong)


# --- what the matrix found, told in full -----------------------------------------------

def test_a_budget_on_the_ballot_cannot_be_removed(client: TestClient, database: Database) -> None:
    setup = make_voting_round(database, kind="approval", phase="jury_review")
    make_user(database, "admin@example.kg", roles=("admin",))
    sign_in(client, "admin@example.kg")
    url = f"/admin/rounds/{setup.round.id}"
    response = client.post(url + "/pots", data={"csrf_token": csrf_of(client, url)},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "cannot be removed" in response.text
    with database.session() as s:
        pots = s.exec(select(RoundPot).where(RoundPot.round_id == setup.round.id)).all()
    assert len(pots) == 3


def test_paper_ballots_are_not_entered_once_voting_closed(client: TestClient,
                                                          database: Database) -> None:
    from voting.models import PaperSheet

    setup = make_voting_round(database, kind="approval", phase="counting")
    make_user(database, "clerk@example.kg", roles=("clerk",))
    sign_in(client, "clerk@example.kg")
    url = f"/clerk/rounds/{setup.round.id}/paper"
    idea = setup.items[None][0]
    response = client.post(url, data={"csrf_token": csrf_of(client, url), "serial": "A-7",
                                      "pot": str(setup.pots[None]), "id_number": "AN1234567",
                                      f"mark_{idea}": "1"}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Voting is not open in this round now." in response.text
    with database.session() as s:
        assert s.exec(select(PaperSheet)).all() == []


def test_every_form_refuses_a_missing_csrf_token_and_a_get(app: Any, database: Database,
                                                            settings: Settings) -> None:
    """Asked by someone it would otherwise let through, in a phase where it is open."""
    world = build_world(database, settings)
    browsers = clients(app, database, settings, world["people"])
    methods = {route.name: route.methods or set() for route in app.routes
               if isinstance(route, Route)}
    wrong, asked = [], 0
    for entry in run_order([e for e in TABLE if e.method == "POST"]):
        allowed = [role for role in RUN_ORDER if entry.who[role] == YES]
        if not allowed:
            continue
        asked += 1
        values = world["fills"][entry.phases[0] if entry.phases else DEFAULT_PHASE]
        client, _token = browsers[allowed[0]]
        response = ask(entry, client, "", values)
        if response.status_code != 403 or "Your form has expired" not in response.text:
            wrong.append(f"POST {entry.path} [{entry.name}] without a token: "
                         f"{response.status_code}")
        if "GET" not in methods[entry.name]:
            got = client.get(fill_in(entry.path, values)).status_code
            if got != 405:
                wrong.append(f"GET {entry.path} [{entry.name}]: {got}")
    assert not wrong, "\n" + "\n".join(wrong)
    assert asked > 40
