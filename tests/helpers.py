"""Helpers for tests: factories whose defaults include hostile text, sign-in, forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from core.accounts.passwords import hash_password
from core.db import Database
from core.models import RoleGrant, User, utcnow
from core.settings import Settings


class DeliveringClient(TestClient):
    """A client after whose every request the mail outbox is delivered once (as `shaar
    worker --once` does), as a server's delivery loop would within a moment; tests then see
    the mail at once and in order. Its app should have MAIL_POLL_SECONDS=0."""

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        from core.outbox import deliver_all

        response = super().request(*args, **kwargs)
        state = self.app.state  # type: ignore[attr-defined]
        deliver_all(state.database, state.settings)
        return response


HOSTILE = "<script>alert(1)</script>\"'&"
PASSWORD = "correct horse battery"


def make_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    env = {"SHAAR_ENV": "test", "SHAAR_VAR_DIR": str(tmp), "DATABASE_URL": database_url,
           "SECRET_KEY": "test-secret-key-that-is-long-enough", "BASE_URL": "http://testserver"}
    return Settings.from_env(env, **overrides)


def make_user(database: Database, email: str = "resident@example.kg", *,
              name: str = f"Resident {HOSTILE}", roles: tuple[str, ...] = (),
              confirmed: bool = True, password: str = PASSWORD) -> User:
    now = utcnow()
    with database.session(write=True) as db:
        user = User(email=email, display_name=name, password_hash=hash_password(password),
                    email_confirmed_at=now if confirmed else None, created_at=now)
        db.add(user)
        db.flush()
        assert user.id is not None
        for role in roles:
            db.add(RoleGrant(user_id=user.id, role=role, granted_at=now))
    return user


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client, "/signin")
    response = client.post("/signin", data={"email": email, "password": password,
                                            "csrf_token": token})
    assert response.status_code == 303, response.text
    return response


def post_form(client: TestClient, path: str, data: dict[str, str], token_from: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, token_from)})


def make_round(database: Database, *, phase: str = "submission", verified_only: bool = False,
               max_supports: int = 3, districts: int = 2, categories: int = 2) -> Any:
    """A contest with one round whose `phase` is open now (others laid out around it)."""
    from datetime import timedelta
    from types import SimpleNamespace

    from contests.models import PHASE_ORDER, Category, Contest, Round, RoundPhase, RoundPot
    from core.models import District

    now = utcnow()
    with database.session(write=True) as db:
        contest = Contest(slug="contest-2027", title=f"Contest {HOSTILE}", year=2027)
        db.add(contest)
        db.flush()
        round_ = Round(contest_id=contest.id, number=1, title=f"Round {HOSTILE}",
                       verified_only=verified_only, max_supports_per_person=max_supports,
                       max_ideas_per_day=3)
        db.add(round_)
        made_districts = [District(slug=f"d{i}", name_ru=f"Район {i}", name_ky=f"Район {i}",
                                   name_en=f"District {i}") for i in range(districts)]
        made_categories = [Category(slug=f"c{i}", name_ru=f"Категория {i}",
                                    name_ky=f"Категория {i}", name_en=f"Category {i}")
                           for i in range(categories)]
        db.add_all(made_districts + made_categories)
        db.flush()
        index = PHASE_ORDER.index(phase)
        for i, p in enumerate(PHASE_ORDER):
            start = now + timedelta(days=10 * (i - index)) - timedelta(days=1)
            db.add(RoundPhase(round_id=round_.id, phase=p, starts_at=start,
                              ends_at=start + timedelta(days=10)))
        for d in made_districts:
            db.add(RoundPot(round_id=round_.id, district_id=d.id, budget=1_000_000))
        db.add(RoundPot(round_id=round_.id, district_id=None, budget=3_000_000))
    return SimpleNamespace(round=round_, contest=contest, districts=made_districts,
                           categories=made_categories)


def idea_fields(setup: Any, **overrides: str) -> dict[str, str]:
    fields = {"title": f"Benches {HOSTILE}", "summary": "Six benches and shade near the "
              "playground", "description": "First paragraph.\n\nSecond https://bishkek.kg",
              "category": str(setup.categories[0].id), "district": str(setup.districts[0].id),
              "estimated_cost": "450 000", "address": "Toktogul 125", "latitude": "42.87",
              "longitude": "74.59"}
    fields.update(overrides)
    return fields


def set_phase(database: Database, round_id: int, phase: str) -> None:
    """Move the round so that `phase` is open now."""
    from datetime import timedelta

    from sqlmodel import select

    from contests.models import PHASE_ORDER, RoundPhase

    now = utcnow()
    index = PHASE_ORDER.index(phase)
    with database.session(write=True) as db:
        for row in db.exec(select(RoundPhase).where(RoundPhase.round_id == round_id)).all():
            i = PHASE_ORDER.index(row.phase)
            row.starts_at = now + timedelta(days=10 * (i - index)) - timedelta(days=1)
            row.ends_at = row.starts_at + timedelta(days=10)
            db.add(row)


def assert_answer(response: Any, want: str, where: tuple[Any, ...]) -> None:
    """One cell of a permission matrix: "sign in" (a redirect to sign-in), "forbidden" (403)
    or "allowed" (anything that is neither, nor a server error)."""
    if want == "sign in":
        assert response.status_code == 303, where
        assert response.headers["location"].startswith("/signin?next="), where
    elif want == "forbidden":
        assert response.status_code == 403, where
    else:
        assert response.status_code < 500 and response.status_code not in (401, 403), where
        if response.status_code == 303:
            assert not response.headers["location"].startswith("/signin"), where


def clear_of_window_edge(window_seconds: int, app: Any = None, margin: float = 15.0) -> None:
    """Rate limits count in fixed windows; a test that needs all its attempts in one window
    must not start just before a window boundary. With `app`, its clock (which gives every
    request its `now`) moves past the boundary; without (servers in other processes), the
    test waits it out."""
    import time
    from datetime import timedelta

    left = window_seconds - time.time() % window_seconds
    if left >= margin:
        return
    if app is None:
        time.sleep(left + 0.5)
        return
    shift = timedelta(seconds=left + 0.5)
    app.state.clock = lambda: utcnow() + shift
