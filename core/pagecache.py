"""Whole-page cache for anonymous readers of public pages (the idea list, an idea's page,
the results page).

Most visitors are not signed in, and they all see the same page for the same address and
language. Such a page is rendered once and kept in this process for `PAGE_CACHE_SECONDS`
(by the app's clock, so that a phase that opens or closes with time shows within that
while). A page is never served after the public content changed: every commit that wrote
to a table a public page may show also adds one to the content version (one row, shared
by all processes through the database), and every cached answer reads that row first.

What is never cached: a signed-in reader's page, a page that carries a message (flash),
a page that sets a cookie or asks not to be stored (an idea only its author may see), any
status but 200. The CSRF token of the page's language form is the reader's own: the
stored page has a placeholder where the token was, and each answer puts the reader's in.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from starlette.requests import Request
from starlette.responses import Response

MAX_PAGES = 400
MAX_BYTES = 64 * 1024 * 1024
TOKEN_PLACEHOLDER = b"\x00csrf\x00"

#: Tables no cached page shows: sessions, limits, mail, and the ballots (no page shows a
#: ballot or a count while voting is open; published results are their own tables). Writes
#: to them (every cast, every signed-in request's last-seen touch) leave the cache alone.
PRIVATE_TABLES = frozenset({
    "usersession", "ratelimithit", "mail_outbox", "emailtoken", "oidcloginattempt",
    "ballotdraft", "ballot", "ballotlogentry", "participation", "paperentry", "papersheet",
    "surveyresponse", "surveyparticipation", "notification", "contentversion",
})
_WRITE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)',
    re.IGNORECASE)
_READ = re.compile(r"\s*(?:SELECT|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|PRAGMA|SHOW|SET"
                   r"|CREATE|ALTER|DROP)\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_FLAG = "shaar_public_write"
BUMP = "UPDATE contentversion SET n = n + 1 WHERE id = 1"


def writes_public(statement: str) -> bool:
    """Whether a statement may change what a public page shows. Unknown kinds count."""
    match = _WRITE.match(statement)
    if match:
        return match.group(1).lower() not in PRIVATE_TABLES
    if _READ.match(statement):
        return False
    if statement.lstrip()[:4].upper() == "WITH":
        return bool(_WRITE_WORD.search(statement))
    return True


def track_writes(engine: Engine) -> None:
    """Count every commit on `engine` that wrote public content in the content version,
    in that same transaction (so a reader who sees the content sees the new version)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _seen(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get(_FLAG) and writes_public(statement):
            conn.info[_FLAG] = True

    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        if conn.info.pop(_FLAG, False):
            conn.exec_driver_sql(BUMP)

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Connection) -> None:
        conn.info.pop(_FLAG, None)


def content_version(conn: Connection) -> int | None:
    row = conn.execute(text("SELECT n FROM contentversion WHERE id = 1")).first()
    return None if row is None else int(row[0])


@dataclass
class Page:
    version: int
    stored_at: datetime
    body: bytes  # with TOKEN_PLACEHOLDER for the reader's CSRF token
    headers: list[tuple[bytes, bytes]]  # without content-length

    def response(self, token: str) -> Response:
        body = self.body.replace(TOKEN_PLACEHOLDER, token.encode())
        response = Response(body)
        response.raw_headers = [*self.headers, (b"content-length", str(len(body)).encode())]
        return response


class AnonymousPages:
    """Least recently used pages of this process, at most MAX_PAGES and MAX_BYTES. Only the
    event loop's thread uses it (async endpoints), so it needs no lock."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._pages: OrderedDict[tuple[str, ...], Page] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: tuple[str, ...], version: int, now: datetime) -> Page | None:
        page = self._pages.get(key)
        if page is None or page.version != version or not (
                0 <= (now - page.stored_at).total_seconds() < self.seconds):
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def put(self, key: tuple[str, ...], page: Page) -> None:
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._pages[key] = page
        self._bytes += len(page.body)
        while self._pages and (len(self._pages) > MAX_PAGES or self._bytes > MAX_BYTES):
            _key, dropped = self._pages.popitem(last=False)
            self._bytes -= len(dropped.body)


def _key(request: Request) -> tuple[str, ...]:
    headers = request.headers
    htmx = "|".join(name for name in ("hx-request", "hx-boosted", "hx-history-restore-request")
                    if name in headers)
    return (request.url.path, request.url.query, request.state.locale, htmx)


def _may_use(request: Request) -> bool:
    state = request.state
    return (request.method == "GET" and getattr(state, "user", None) is None
            and not getattr(state, "flashes", None))


def _may_store(request: Request, response: Response) -> bool:
    state = request.scope.get("state", {})
    if response.status_code != 200 or not isinstance(getattr(response, "body", None), bytes):
        return False
    if any(name in state for name in ("outgoing_flashes", "new_session_token", "lang_cookie",
                                      "keep_flashes")):
        return False
    control = response.headers.get("cache-control", "")
    return "no-store" not in control and "private" not in control \
        and "set-cookie" not in response.headers


Endpoint = Callable[[Request], Awaitable[Response]]


def cached_page(endpoint: Endpoint) -> Endpoint:
    """Serve `endpoint`'s page from the cache to anonymous readers (see the module)."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        cache: AnonymousPages | None = getattr(request.app.state, "anonymous_pages", None)
        if cache is None or not _may_use(request):
            return await endpoint(request)
        with request.app.state.database.single_read() as conn:
            version = content_version(conn)
        if version is None:
            return await endpoint(request)
        key, now, token = _key(request), request.state.now, request.state.csrf_token
        page = cache.get(key, version, now)
        if page is not None:
            return page.response(token)
        response = await endpoint(request)
        if _may_store(request, response):
            body = bytes(response.body)
            if token:
                body = body.replace(token.encode(), TOKEN_PLACEHOLDER)
            headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
            cache.put(key, Page(version, now, body, headers))
        return response

    return wrapper
