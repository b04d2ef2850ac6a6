"""Checking the admin's progress form: status, percent, public reason, news and photos."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile

from core.forms import Form
from core.i18n import gettext as _
from core.web import as_int, field_str
from tracking.models import STATUSES, ProjectStatus

PHOTO_SLOTS = 3
MAX_BODY = 5000
MAX_REASON = 2000
MAX_ALT = 300


@dataclass(frozen=True)
class Report:
    """A checked progress report. `photos` holds (form slot, upload, alt text)."""

    status: ProjectStatus
    progress: int
    reason: str
    body: str
    photos: list[tuple[int, UploadFile, str]]


def _progress(raw: str) -> int | None:
    cleaned = raw.replace("%", "").replace("\u00a0", "").strip()
    return as_int(cleaned, 100)


def check_report(data: FormData) -> tuple[Report | None, Form]:
    """The report and the form to re-render (typed values, errors by field). A done project
    is at 100 %; the public reason counts only for a cancelled one."""
    values = {name: field_str(data, name, limit) for name, limit in (
        ("status", 20), ("progress", 10), ("reason", MAX_REASON), ("body", MAX_BODY),
        *((f"alt{n}", MAX_ALT) for n in range(1, PHOTO_SLOTS + 1)))}
    form = Form(values=values)
    status = values["status"]
    if status not in STATUSES:
        form.errors["status"] = _("Choose a status.")
    progress = _progress(values["progress"])
    if status == ProjectStatus.DONE:
        progress = 100
    if progress is None:
        form.errors["progress"] = _("Enter the progress as a whole number from 0 to 100.")
    if status == ProjectStatus.CANCELLED and not values["reason"]:
        form.errors["reason"] = _("Say publicly why the project is cancelled.")
    if len(values["reason"]) > MAX_REASON:
        form.errors["reason"] = _("At most %(n)s characters.", n=MAX_REASON)
    if len(values["body"]) > MAX_BODY:
        form.errors["body"] = _("At most %(n)s characters.", n=MAX_BODY)
    photos = []
    for n in range(1, PHOTO_SLOTS + 1):
        upload = data.get(f"photo{n}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        alt = values[f"alt{n}"]
        if not alt:
            form.errors[f"alt{n}"] = _("Describe photo %(n)s for people who cannot see it.",
                                       n=n)
        elif len(alt) > MAX_ALT:
            form.errors[f"alt{n}"] = _("At most %(n)s characters.", n=MAX_ALT)
        photos.append((n, upload, alt))
    if not form.ok or progress is None:
        return None, form
    reason = values["reason"] if status == ProjectStatus.CANCELLED else ""
    return Report(ProjectStatus(status), progress, reason, values["body"], photos), form
