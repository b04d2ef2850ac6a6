"""Validation of the idea form."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from starlette.datastructures import FormData

from core.forms import Form
from core.i18n import gettext as _
from core.web import as_int, field_str

MAX_COST = 10**12
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class IdeaData:
    """What the author may set. Status, author and round are never taken from a form."""

    title: str
    summary: str
    description: str
    category_id: int | None
    district_id: int | None
    estimated_cost: int
    address: str
    latitude: float | None
    longitude: float | None


def _text(form: Form, data: FormData, name: str, low: int, high: int, multiline: bool) -> None:
    raw = field_str(data, name, high)
    value = CONTROL.sub("", raw if multiline else " ".join(raw.split()))
    form.values[name] = value
    if len(value) < low:
        form.errors[name] = (_("Write at least %(n)s characters.", n=low) if low > 1
                             else _("This field is required."))
    elif len(value) > high:
        form.errors[name] = _("Use at most %(n)s characters.", n=high)


def _choice(form: Form, data: FormData, name: str, allowed: set[int], required: bool) -> None:
    raw = field_str(data, name, 12)
    form.values[name] = raw
    if not raw:
        if required:
            form.errors[name] = _("Choose one of the options.")
        return
    if as_int(raw) not in allowed:
        form.errors[name] = _("Choose one of the listed options.")


def _cost(form: Form, data: FormData) -> None:
    raw = field_str(data, "estimated_cost", 40)
    form.values["estimated_cost"] = raw
    digits = re.sub(r"[\s\u00a0\u202f,.']", "", raw)
    if not digits:
        form.errors["estimated_cost"] = _("Enter an estimated cost in som.")
    elif as_int(digits, MAX_COST) is None:
        form.errors["estimated_cost"] = _("Enter the cost as a whole number of som, for "
                                          "example 450000.")


def _coordinate(form: Form, data: FormData, name: str, limit: float) -> None:
    raw = field_str(data, name, 30).replace(",", ".")
    form.values[name] = raw
    if not raw:
        return
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        form.errors[name] = _("Enter a number between -%(n)s and %(n)s.", n=int(limit))


def idea_form(data: FormData, category_ids: set[int], district_ids: set[int]) -> Form:
    """Check every field; `district` may be blank for a city-wide idea."""
    form = Form()
    _text(form, data, "title", 5, 150, multiline=False)
    _text(form, data, "summary", 10, 500, multiline=False)
    _text(form, data, "description", 0, 10_000, multiline=True)
    _choice(form, data, "category", category_ids, required=bool(category_ids))
    _choice(form, data, "district", district_ids, required=False)
    _cost(form, data)
    _text(form, data, "address", 0, 300, multiline=False)
    _coordinate(form, data, "latitude", 90)
    _coordinate(form, data, "longitude", 180)
    if bool(form.values["latitude"]) != bool(form.values["longitude"]):
        form.errors.setdefault("longitude", _("Give both latitude and longitude, or neither."))
    return form


def idea_data(form: Form) -> IdeaData:
    """The typed values of a form that passed validation."""
    v = form.values

    def number(name: str) -> float | None:
        return float(v[name].replace(",", ".")) if v.get(name) else None

    return IdeaData(
        title=v["title"], summary=v["summary"], description=v["description"],
        category_id=int(v["category"]) if v.get("category") else None,
        district_id=int(v["district"]) if v.get("district") else None,
        estimated_cost=int(re.sub(r"[\s\u00a0\u202f,.']", "", v["estimated_cost"])),
        address=v["address"], latitude=number("latitude"), longitude=number("longitude"))


def comment_body(data: FormData) -> tuple[str, str | None]:
    body = CONTROL.sub("", field_str(data, "body", 2000))
    if not body:
        return body, _("Write something first.")
    if len(body) > 2000:
        return body, _("Use at most %(n)s characters.", n=2000)
    return body, None
