"""A city with two districts and the ready survey, open now."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from core.db import Database
from core.models import District, utcnow
from surveys.template import create_city_services_survey


def make_survey(database: Database, *, audience: str = "accounts", closed: bool = False,
                live: bool = False) -> Any:
    now = utcnow()
    with database.session(write=True) as s:
        d1 = District(slug="north", name_ru="Север", name_ky="Түндүк", name_en="North",
                      population=60000)
        d2 = District(slug="south", name_ru="Юг", name_ky="Түштүк", name_en="South",
                      population=40000)
        s.add(d1)
        s.add(d2)
        s.flush()
        span = ((now - timedelta(days=20), now - timedelta(days=1)) if closed else
                (now - timedelta(days=1), now + timedelta(days=10)))
        survey, wave = create_city_services_survey(s, "city-2027", span, audience=audience)
        survey.live_results = live
        s.add(survey)
    return SimpleNamespace(survey=survey, wave=wave, districts=[d1, d2])
