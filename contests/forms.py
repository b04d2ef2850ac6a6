"""Validation of the contest admin forms.

Each function returns a `Form` (the values as entered, to show again, and field errors) and,
when there are no errors, the cleaned values the services take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from contests.models import PHASE_ORDER, Category, Contest, Phase, Round, RoundPhase, RoundPot
from core.forms import Form, local_time_field, text_field
from core.i18n import format_number
from core.i18n import gettext as _
from core.web import field_str

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DIGITS_RE = re.compile(r"^[0-9]+$")
#: Budgets are stored in a 32-bit integer column; two billion som is far above any city's pot.
MAX_BUDGET = 2_000_000_000
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
CITY_POT = "pot_city"


@dataclass(frozen=True)
class ContestData:
    slug: str
    title: str
    year: int
    description: str


@dataclass(frozen=True)
class RoundData:
    title: str
    description: str
    verified_only: bool
    max_supports_per_person: int
    min_supports: int
    max_ideas_per_day: int


@dataclass(frozen=True)
class CategoryData:
    slug: str
    name_ru: str
    name_ky: str
    name_en: str
    position: int


#: A phase's [start, end) in aware UTC.
Schedule = dict[Phase, tuple[datetime, datetime]]
#: Budget in som per district id; None is the city-wide pot.
Pots = dict[int | None, int]




def _slug(form: Form, data: FormData, max_length: int) -> str:
    value = field_str(data, "slug", max_length).lower()
    form.values["slug"] = value
    if not value:
        form.errors["slug"] = _("Fill in this field.")
    elif len(value) > max_length:
        form.errors["slug"] = _("Use at most %(n)s characters.", n=max_length)
    elif not SLUG_RE.match(value):
        form.errors["slug"] = _("Use Latin letters, digits and hyphens only.")
    return value


def _shown(number: int) -> str:
    """Group the digits of large numbers as the reader's language does (not of years)."""
    return format_number(number) if number >= 10_000 else str(number)


def _whole(form: Form, data: FormData, name: str, low: int, high: int, *,
           required: bool = True) -> int | None:
    """A whole number in [low, high]; spaces between digit groups are allowed."""
    raw = field_str(data, name, 40)
    form.values[name] = raw
    compact = "".join(raw.split())
    if not compact:
        if required:
            form.errors[name] = _("Fill in this field.")
        return None
    if not DIGITS_RE.match(compact) or not low <= int(compact) <= high:
        form.errors[name] = _("Enter a whole number from %(low)s to %(high)s.",
                              low=_shown(low), high=_shown(high))
        return None
    return int(compact)


def contest_values(contest: Contest) -> dict[str, str]:
    return {"slug": contest.slug, "title": contest.title, "year": str(contest.year),
            "description": contest.description}


def contest_form(data: FormData) -> tuple[Form, ContestData | None]:
    form = Form()
    title = text_field(form, data, "title", 200)
    slug = _slug(form, data, 60)
    year = _whole(form, data, "year", 2000, 2100)
    description = text_field(form, data, "description", 5000, required=False, multiline=True)
    if not form.ok or year is None:
        return form, None
    return form, ContestData(slug, title, year, description)


def new_round_form(data: FormData) -> tuple[Form, str | None]:
    form = Form()
    title = text_field(form, data, "round_title", 200)
    return form, title if form.ok else None


def round_values(round_: Round) -> dict[str, str]:
    return {"title": round_.title, "description": round_.description,
            "verified_only": "yes" if round_.verified_only else "",
            "max_supports_per_person": str(round_.max_supports_per_person),
            "min_supports": str(round_.min_supports),
            "max_ideas_per_day": str(round_.max_ideas_per_day)}


def round_form(data: FormData) -> tuple[Form, RoundData | None]:
    form = Form()
    title = text_field(form, data, "title", 200)
    description = text_field(form, data, "description", 5000, required=False, multiline=True)
    verified_only = data.get("verified_only") == "yes"
    form.values["verified_only"] = "yes" if verified_only else ""
    supports = _whole(form, data, "max_supports_per_person", 0, 1000)
    minimum = _whole(form, data, "min_supports", 0, 1_000_000)
    per_day = _whole(form, data, "max_ideas_per_day", 1, 100)
    if not form.ok or supports is None or minimum is None or per_day is None:
        return form, None
    return form, RoundData(title, description, verified_only, supports, minimum, per_day)


def phase_values(phases: list[RoundPhase], time_zone: str) -> dict[str, str]:
    zone = ZoneInfo(time_zone)
    values: dict[str, str] = {}
    for p in phases:
        values[f"{p.phase}_start"] = p.starts_at.astimezone(zone).strftime(LOCAL_FORMAT)
        values[f"{p.phase}_end"] = p.ends_at.astimezone(zone).strftime(LOCAL_FORMAT)
    return values




def phases_form(data: FormData, time_zone: str) -> tuple[Form, Schedule | None]:
    """Each phase is optional; a phase given must end after it starts, and the phases given
    must follow each other in the order of `Phase` without overlapping (end == next start is
    fine: the windows are half-open)."""
    form = Form()
    zone = ZoneInfo(time_zone)
    schedule: Schedule = {}
    previous_end: datetime | None = None
    for phase in PHASE_ORDER:
        start_name, end_name = f"{phase}_start", f"{phase}_end"
        start = local_time_field(form, data, start_name, zone)
        end = local_time_field(form, data, end_name, zone)
        if start_name in form.errors or end_name in form.errors:
            continue
        if start is None and end is None:
            continue
        if start is None or end is None:
            missing = start_name if start is None else end_name
            form.errors[missing] = _("Enter both the start and the end, or neither.")
            continue
        if start >= end:
            form.errors[end_name] = _("The end must be later than the start.")
            continue
        if previous_end is not None and start < previous_end:
            form.errors[start_name] = _("This phase starts before the previous phase ends.")
        previous_end = end
        schedule[phase] = (start, end)
    return form, schedule if form.ok else None


def pot_field(district_id: int | None) -> str:
    return CITY_POT if district_id is None else f"pot_{district_id}"


def pot_values(pots: list[RoundPot]) -> dict[str, str]:
    return {pot_field(p.district_id): str(p.budget) for p in pots}


def pots_form(data: FormData, district_ids: list[int]) -> tuple[Form, Pots | None]:
    """A blank amount means that pot does not exist (the district does not take part)."""
    form = Form()
    pots: Pots = {}
    for district_id in [*district_ids, None]:
        name = pot_field(district_id)
        amount = _whole(form, data, name, 0, MAX_BUDGET, required=False)
        if amount is not None:
            pots[district_id] = amount
    return form, pots if form.ok else None


def category_values(category: Category) -> dict[str, str]:
    return {"slug": category.slug, "name_ru": category.name_ru, "name_ky": category.name_ky,
            "name_en": category.name_en, "position": str(category.position)}


def category_form(data: FormData) -> tuple[Form, CategoryData | None]:
    form = Form()
    slug = _slug(form, data, 40)
    name_ru, name_ky, name_en = (text_field(form, data, f"name_{code}", 120)
                                 for code in ("ru", "ky", "en"))
    position = _whole(form, data, "position", 0, 10_000, required=False)
    if not form.ok:
        return form, None
    return form, CategoryData(slug, name_ru, name_ky, name_en, position or 0)
