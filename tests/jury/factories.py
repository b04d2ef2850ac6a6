"""Jury test data: a round in jury review with published ideas, jurors and a chair."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from contests.models import Round
from core.db import Database
from core.models import utcnow
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus
from ideas.services import create_idea
from jury.models import RoundJury
from tests.helpers import HOSTILE, make_round, make_user


def published(database: Database, setup: Any, author_id: int, *, title: str = f"Park {HOSTILE}",
              district_id: int | None = None, cost: int = 450_000, supports: int = 0) -> Idea:
    data = IdeaData(title=title, summary=f"Shade and benches {HOSTILE}", description="",
                    category_id=None, district_id=district_id, estimated_cost=cost, address="",
                    latitude=None, longitude=None)
    with database.session(write=True) as db:
        idea = create_idea(db, db.get(Round, setup.round.id), author_id, data, utcnow(),
                           IdeaStatus.PUBLISHED)
        idea.support_count = supports
        db.add(idea)
        db.flush()
        db.refresh(idea)
    return idea


def jury_world(database: Database, phase: str = "jury_review") -> SimpleNamespace:
    setup = make_round(database, phase=phase)
    author = make_user(database, "author@example.kg")
    chair = make_user(database, "chair@example.kg", roles=("jury",), name=f"Chair {HOSTILE}")
    juror = make_user(database, "juror@example.kg", roles=("jury",), name=f"Juror {HOSTILE}")
    with database.session(write=True) as db:
        db.add(RoundJury(round_id=setup.round.id, chair_user_id=chair.id, updated_at=utcnow()))
    return SimpleNamespace(setup=setup, author=author, chair=chair, juror=juror)
