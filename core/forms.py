"""The shape every form validator returns: cleaned values and field errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from core.i18n import gettext as _


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def text_field(form: Form, data: FormData, name: str, max_length: int, *,
               required: bool = True, multiline: bool = False) -> str:
    """Read a text field into `form.values`, noting the error a resident would fix: empty
    when required, too long, or control characters (line breaks only when `multiline`)."""
    raw = data.get(name)
    value = raw.strip()[: max_length + 1] if isinstance(raw, str) else ""
    form.values[name] = value
    allowed = "\n\r\t" if multiline else ""
    if required and not value:
        form.errors[name] = _("Fill in this field.")
    elif len(value) > max_length:
        form.errors[name] = _("Use at most %(n)s characters.", n=max_length)
    elif any(ord(ch) < 32 and ch not in allowed for ch in value):
        form.errors[name] = _("Remove control characters.")
    return value


def local_time_field(form: Form, data: FormData, name: str, zone: ZoneInfo, *,
                     required: bool = False) -> datetime | None:
    """A `datetime-local` value read as wall-clock time in the city, returned in aware UTC;
    None (with the error noted) when it is missing and required, or not a date and time."""
    raw = data.get(name)
    raw = raw.strip()[:41] if isinstance(raw, str) else ""
    form.values[name] = raw
    if not raw:
        if required:
            form.errors[name] = _("Fill in this field.")
        return None
    try:
        parsed: datetime | None = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is not None or not 2000 <= parsed.year <= 2100:
        form.errors[name] = _("Enter a date and time like 2027-03-01 09:00.")
        return None
    return parsed.replace(second=0, microsecond=0, tzinfo=zone).astimezone(UTC)


def field_label(name: str) -> str:
    """The label of a form field, for error summaries ("Title: write at least 5 characters").
    Forms share field names, so one table names them all; an unknown name gives ""."""
    labels = {
        "title": _("Title"), "summary": _("Summary"), "description": _("Description"),
        "category": _("Category"), "district": _("District"),
        "estimated_cost": _("Estimated cost, som"), "address": _("Address or place"),
        "latitude": _("Latitude"), "longitude": _("Longitude"), "photos": _("Photos"),
        "documents": _("Documents"), "email": _("E-mail address"),
        "display_name": _("Your name"), "password": _("Password"),
        "password_confirm": _("Repeat the password"), "accept_terms": _("Terms of use"),
        "locale": _("Language"), "id_number": _("Personal ID number"), "body": _("Comment"),
        "reason": _("Reason"), "public_reason": _("Reason"), "slug": _("Short name"),
        "name_ru": _("Name in Russian"), "name_ky": _("Name in Kyrgyz"),
        "name_en": _("Name in English"), "serial": _("Number printed on the ballot paper"),
    }
    return labels.get(name, "")
