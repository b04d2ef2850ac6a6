"""Languages: catalogs, the current request's locale, and locale-aware formatting."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache, lru_cache
from io import BytesIO
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from core.settings import LOCALES, ROOT

LOCALE_DIR = ROOT / "locale"
LANGUAGE_NAMES = {"ru": "Русский", "ky": "Кыргызча", "en": "English"}

_current_locale: ContextVar[str] = ContextVar("locale", default="ru")
_current_tz: ContextVar[str] = ContextVar("tz", default="Asia/Bishkek")


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog for `locale`, compiled from its .po file once per process.

    Reading the .po directly means there is no build step that could leave stale .mo files.
    """
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def set_locale(locale: str, tz: str) -> None:
    _current_locale.set(locale)
    _current_tz.set(tz)


def get_locale() -> str:
    return _current_locale.get()


def gettext(message: str, **variables: object) -> str:
    text = translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def negotiate(accept_language: str, default: str) -> str:
    """Pick the first supported language of an Accept-Language header."""
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((quality, tag.strip().lower()))
    for _quality, tag in sorted(weighted, key=lambda item: -item[0]):
        base = tag.split("-")[0]
        if base in LOCALES:
            return base
    return default


@cache
def _parsed_locale(code: str) -> Locale:
    # Babel's bare "en" is American (12/3/26, 12:28 PM). English here is read in a city that
    # writes the day first and the 24-hour clock, as British English does.
    return Locale.parse("en_GB" if code == "en" else code)


def _babel_locale() -> Locale:
    # Parsed once per language: a page formats dozens of sums and dates, and Locale.parse
    # builds a new object (and looks up its data) on every call.
    return _parsed_locale(get_locale())


def local_time(value: datetime) -> datetime:
    """A stored naive-UTC time in the city's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(_current_tz.get()))


def city_zone() -> dict[str, str]:
    """The city's zone as the reader names it, and its offset: {"city": "Bishkek",
    "offset": "+06:00"} (for the footer's sentence)."""
    now = datetime.now(UTC).astimezone(ZoneInfo(_current_tz.get()))
    city = get_timezone_location(now.tzinfo, locale=_babel_locale(), return_city=True)
    offset = now.strftime("%z")
    return {"city": city, "offset": f"{offset[:3]}:{offset[3:]}"}


def format_when(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(local_time(value), fmt, locale=_babel_locale())


def format_day(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_date(local_time(value), "long", locale=_babel_locale())


@lru_cache(maxsize=8192)
def _decimal(value: int | float, locale: str) -> str:
    # Pages show the same sums over and over (costs, budgets, counts); babel's formatting
    # is the costliest part of a card.
    return format_decimal(value, locale=_parsed_locale(locale))


def format_number(value: int | float) -> str:
    return _decimal(value, get_locale())


@lru_cache(maxsize=8192)
def _som(amount: int, locale: str) -> str:
    text = translations(locale).gettext("%(amount)s som")
    return text % {"amount": _decimal(amount, locale)}


def format_som(amount: int) -> str:
    """Whole som, grouped per locale, with the unit in the reader's language."""
    return _som(amount, get_locale())


def format_local_date(value: datetime | None, fmt: str = "long") -> str:
    """A day in the city's zone, written as the reader's language writes dates."""
    if value is None:
        return ""
    return format_date(local_time(value), fmt, locale=_babel_locale())


def format_local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A moment in the city's zone, with the zone named ("3 Dec 2026, 18:28, Bishkek time"),
    in the reader's conventions."""
    if value is None:
        return ""
    local = local_time(value)
    city = get_timezone_location(local.tzinfo, locale=_babel_locale(), return_city=True)
    return gettext("%(date)s, %(time)s (%(city)s time)",
                   date=format_date(local, fmt, locale=_babel_locale()),
                   time=format_time(local, "short", locale=_babel_locale()), city=city)
