"""Validation of the survey admin forms: a survey's texts and audience, a wave's dates (typed
as wall-clock time in the city, kept in UTC) and a question in ru, ky and en.

Each function returns a `Form` (values as typed, to show again, and field errors) and, when
there are no errors, the cleaned values the services take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from core.forms import Form, local_time_field, text_field
from core.i18n import gettext as _
from core.web import field_str
from surveys.models import Audience, QuestionType, Survey, SurveyQuestion, SurveyWave

LANGS = ("ru", "ky", "en")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VALUE_RE = re.compile(r"^[a-z0-9_]{1,30}$")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
CHOICE_KINDS = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.RANKING)
SCALE_KINDS = (QuestionType.RATING5, QuestionType.RATING10, QuestionType.MATRIX)
#: Paths use the key; this one names the page that adds a question.
RESERVED_KEYS = ("new",)
MAX_OPTIONS = 30


@dataclass(frozen=True)
class SurveyData:
    title: dict[str, str]
    intro: dict[str, str]
    audience: str
    live_results: bool


@dataclass(frozen=True)
class NewSurvey:
    slug: str
    start: str  # "template" or "blank"
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class WaveData:
    label: str
    opens_at: datetime
    closes_at: datetime




def _texts(form: Form, data: FormData, prefix: str, max_length: int, *,
           required: bool = True, multiline: bool = False) -> dict[str, str]:
    """A text in every working language (fields `prefix_ru`, `prefix_ky`, `prefix_en`). An
    optional text is all or nothing: a text in one language only would leave the others
    reading a different language."""
    out = {lang: text_field(form, data, f"{prefix}_{lang}", max_length, required=required,
                       multiline=multiline) for lang in LANGS}
    if not required and any(out.values()):
        for lang in LANGS:
            if not out[lang] and f"{prefix}_{lang}" not in form.errors:
                form.errors[f"{prefix}_{lang}"] = _("Give this text in every language.")
    return out if any(out.values()) else {}


def _texts_values(prefix: str, texts: dict[str, Any] | None) -> dict[str, str]:
    return {f"{prefix}_{lang}": str((texts or {}).get(lang, "")) for lang in LANGS}




def local(moment: datetime, time_zone: str) -> str:
    """An instant as the `datetime-local` value of the city's wall-clock time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(time_zone)).strftime(LOCAL_FORMAT)


def _dates(form: Form, data: FormData, time_zone: str) -> tuple[datetime | None,
                                                                 datetime | None]:
    zone = ZoneInfo(time_zone)
    opens = local_time_field(form, data, "opens_at", zone, required=True)
    closes = local_time_field(form, data, "closes_at", zone, required=True)
    if opens is not None and closes is not None and closes <= opens:
        form.errors["closes_at"] = _("The end must be later than the start.")
    return opens, closes


def survey_values(survey: Survey) -> dict[str, str]:
    return {**_texts_values("title", survey.title), **_texts_values("intro", survey.intro),
            "audience": survey.audience, "live_results": "yes" if survey.live_results else ""}


def survey_form(data: FormData) -> tuple[Form, SurveyData | None]:
    form = Form()
    title = _texts(form, data, "title", 200)
    intro = _texts(form, data, "intro", 2000, required=False, multiline=True)
    audience = field_str(data, "audience", 20)
    form.values["audience"] = audience
    if audience not in tuple(Audience):
        form.errors["audience"] = _("Choose who may answer.")
    live = field_str(data, "live_results", 5) == "yes"
    form.values["live_results"] = "yes" if live else ""
    if not form.ok:
        return form, None
    return form, SurveyData(title, intro, audience, live)


def new_survey_form(data: FormData, time_zone: str) -> tuple[Form, NewSurvey | None]:
    form = Form()
    slug = field_str(data, "slug", 60).lower()
    form.values["slug"] = slug
    if not slug:
        form.errors["slug"] = _("Fill in this field.")
    elif len(slug) > 60:
        form.errors["slug"] = _("Use at most %(n)s characters.", n=60)
    elif not SLUG_RE.match(slug):
        form.errors["slug"] = _("Use Latin letters, digits and hyphens only.")
    start = field_str(data, "start", 10)
    form.values["start"] = start
    if start not in ("template", "blank"):
        form.errors["start"] = _("Choose how to start the survey.")
    opens, closes = _dates(form, data, time_zone)
    if not form.ok or opens is None or closes is None:
        return form, None
    return form, NewSurvey(slug, start, opens, closes)


def wave_values(wave: SurveyWave, time_zone: str) -> dict[str, str]:
    return {"label": wave.label, "opens_at": local(wave.opens_at, time_zone),
            "closes_at": local(wave.closes_at, time_zone)}


def wave_form(data: FormData, time_zone: str) -> tuple[Form, WaveData | None]:
    form = Form()
    label = text_field(form, data, "label", 80, required=False)
    opens, closes = _dates(form, data, time_zone)
    if not form.ok or opens is None or closes is None:
        return form, None
    return form, WaveData(label, opens, closes)


# --- questions ----------------------------------------------------------------------------

def _lines_values(items: list[Any]) -> str:
    return "\n".join(" | ".join([str(o["value"]), *(str(o["label"].get(lang, ""))
                                                    for lang in LANGS)]) for o in items)


def _lines(form: Form, data: FormData, name: str) -> list[dict[str, Any]]:
    """Options (or matrix rows), one a line: `value | ru | ky | en`."""
    raw = text_field(form, data, name, 20_000, required=False, multiline=True)
    out: list[dict[str, Any]] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4 or not all(parts):
            form.errors[name] = _("Line %(n)s: write a value and its text in Russian, Kyrgyz "
                                  "and English, separated by |.", n=number)
            return out
        if not VALUE_RE.match(parts[0]):
            form.errors[name] = _("Line %(n)s: a value uses small Latin letters, digits and _ "
                                  "only.", n=number)
            return out
        if any(len(p) > 200 for p in parts):
            form.errors[name] = _("Line %(n)s: use at most %(max)s characters per text.",
                                  n=number, max=200)
            return out
        if any(o["value"] == parts[0] for o in out) or parts[0] == "other":
            form.errors[name] = _("Line %(n)s: each value must be different (and not "
                                  "\"other\").", n=number)
            return out
        out.append({"value": parts[0], "label": dict(zip(LANGS, parts[1:], strict=True))})
    if len(out) > MAX_OPTIONS:
        form.errors[name] = _("At most %(n)s lines.", n=MAX_OPTIONS)
    return out


def question_values(q: SurveyQuestion) -> dict[str, str]:
    cond = q.show_if or {}
    op = "includes" if "includes" in cond else "equals"
    return {
        "key": q.key, "kind": q.kind, "required": "yes" if q.required else "",
        **_texts_values("text", q.text), **_texts_values("section", q.section),
        **_texts_values("low", q.scale_low), **_texts_values("high", q.scale_high),
        "options": _lines_values(q.options), "rows": _lines_values(q.rows),
        "allow_other": "yes" if q.allow_other else "",
        "service": "yes" if q.service else "", "trust": "yes" if q.trust else "",
        "show_key": str(cond.get("key", "")), "show_op": op if cond else "",
        "show_value": str(cond.get(op, "")) if cond else "",
    }


def _flag(form: Form, data: FormData, name: str) -> bool:
    on = field_str(data, name, 5) == "yes"
    form.values[name] = "yes" if on else ""
    return on


def question_form(data: FormData, earlier: list[SurveyQuestion], taken: set[str],
                  key: str | None = None) -> tuple[Form, dict[str, Any] | None]:
    """A question's columns. `earlier` are the questions before it (a condition may name only
    those), `taken` the keys already used in the wave; `key` is given when editing (a key
    stays: trends across waves join on it)."""
    form = Form()
    if key is None:
        key = field_str(data, "key", 40).lower()
        form.values["key"] = key
        if not KEY_RE.match(key) or key in RESERVED_KEYS:
            form.errors["key"] = _("Start with a small Latin letter; then letters, digits and "
                                   "_ only, at most 40.")
        elif key in taken:
            form.errors["key"] = _("Another question of this wave has this key.")
    kind = field_str(data, "kind", 12)
    form.values["kind"] = kind
    if kind not in tuple(QuestionType):
        form.errors["kind"] = _("Choose a type of question.")
    text = _texts(form, data, "text", 500)
    section = _texts(form, data, "section", 200, required=False)
    options = _lines(form, data, "options")
    rows = _lines(form, data, "rows")
    low = _texts(form, data, "low", 100, required=False)
    high = _texts(form, data, "high", 100, required=False)
    required = _flag(form, data, "required")
    allow_other = _flag(form, data, "allow_other")
    service = _flag(form, data, "service")
    trust = _flag(form, data, "trust")
    if kind in CHOICE_KINDS and len(options) < 2 and "options" not in form.errors:
        form.errors["options"] = _("Give at least two answers to choose from.")
    if kind == QuestionType.MATRIX and not rows and "rows" not in form.errors:
        form.errors["rows"] = _("Give at least one row.")
    if allow_other and kind not in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        form.errors["allow_other"] = _("Only single and multiple choice take \"other\".")
    if (service or trust) and kind != QuestionType.RATING5 and not (
            service and kind == QuestionType.RATING10):
        form.errors["service" if service else "trust"] = _(
            "A service or trust question is a rating scale (trust: 1-5).")
    show_if = _condition(form, data, earlier)
    if not form.ok:
        return form, None
    return form, {
        "key": key, "kind": kind, "text": text, "section": section, "required": required,
        "options": options if kind in CHOICE_KINDS else [],
        "rows": rows if kind == QuestionType.MATRIX else [],
        "allow_other": allow_other, "scale_low": low if kind in SCALE_KINDS else {},
        "scale_high": high if kind in SCALE_KINDS else {}, "show_if": show_if,
        "service": service, "trust": trust,
    }


def _condition(form: Form, data: FormData, earlier: list[SurveyQuestion]) -> dict[str, Any] | None:
    """Show the question only when an earlier answer equals (single choice, rating) or
    includes (multiple choice) a value."""
    from surveys.results import choice_values

    ref = field_str(data, "show_key", 40)
    op = field_str(data, "show_op", 10)
    value = field_str(data, "show_value", 30)
    form.values.update(show_key=ref, show_op=op, show_value=value)
    if not ref:
        return None
    target = next((q for q in earlier if q.key == ref), None)
    conditional = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.RATING5,
                   QuestionType.RATING10)
    if target is None or target.kind not in conditional:
        form.errors["show_key"] = _("Choose an earlier choice or rating question.")
        return None
    wanted = "includes" if target.kind == QuestionType.MULTIPLE else "equals"
    if op != wanted:
        form.errors["show_op"] = (_("A multiple choice answer includes a value.")
                                  if wanted == "includes" else
                                  _("This answer equals a value."))
        return None
    if value not in choice_values(target):
        form.errors["show_value"] = _("Choose one of that question's answer values: %(values)s.",
                                      values=", ".join(choice_values(target)))
        return None
    return {"key": ref, op: value}
