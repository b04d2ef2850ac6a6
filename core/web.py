"""The request pipeline: who is asking, in which language, with which CSRF token; and the
small helpers every endpoint uses (read a form, redirect with a message, demand a role)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import i18n, security, sessions
from core.db import Database
from core.errors import SignInRequired
from core.models import utcnow
from core.settings import LOCALES, Settings

LANG_COOKIE = "shaar_lang"
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 10


@dataclass(frozen=True)
class CookieNames:
    session: str
    browser: str
    flash: str

    @classmethod
    def for_settings(cls, settings: Settings) -> CookieNames:
        # __Host- cookies are refused by browsers over plain HTTP, so only prefix them on HTTPS.
        prefix = "__Host-" if settings.https else ""
        return cls(f"{prefix}shaar_session", f"{prefix}shaar_bid", f"{prefix}shaar_flash")


def cookie_header(
    name: str, value: str, *, secure: bool, max_age: int | None = None, http_only: bool = True
) -> bytes:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


#: What a NUL character becomes: PostgreSQL cannot store NUL in text (not even compare with
#: it), and no form control can type one. U+FFFD is what undecodable input becomes anyway.
REPLACEMENT = "\ufffd"


def without_nul(scope: Scope) -> None:
    """Replace NUL in the path and the query string before anything reads them, so that a
    `%00` in a URL is a value that matches nothing (404, or no results) rather than a 500."""
    if "\x00" in scope["path"]:
        scope["path"] = scope["path"].replace("\x00", REPLACEMENT)
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        scope["query_string"] = query.replace(b"%00", b"%EF%BF%BD").replace(b"\x00",
                                                                            b"%EF%BF%BD")


def form_without_nul(form: FormData) -> FormData:
    """The same for a parsed form: its names, values and file names."""
    items: list[tuple[str, str | UploadFile]] = []
    for key, value in form.multi_items():
        if isinstance(value, str):
            value = value.replace("\x00", REPLACEMENT)
        elif value.filename and "\x00" in value.filename:
            value.filename = value.filename.replace("\x00", REPLACEMENT)
        items.append((key.replace("\x00", REPLACEMENT), value))
    return FormData(items)


class RequestContextMiddleware:
    """Loads the session and locale, refuses cross-site writes, and sets headers and cookies."""

    def __init__(self, app: ASGIApp, settings: Settings, database: Database, csp: str) -> None:
        self.app = app
        self.settings = settings
        self.database = database
        self.cookies = CookieNames.for_settings(settings)
        self.flash_signer = URLSafeSerializer(settings.secret_key, salt="flash")
        self.base_headers = security.security_headers(csp, settings.https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        without_nul(scope)
        request = Request(scope)
        state = scope.setdefault("state", {})
        # The app's clock (create_app sets it to utcnow; tests may move it).
        now = scope["app"].state.clock() if "app" in scope else utcnow()
        cookies = request.cookies

        browser_id = cookies.get(self.cookies.browser, "")
        new_browser_id = None
        if len(browser_id) < 32 or len(browser_id) > 64:
            browser_id = new_browser_id = security.new_token()

        signed_in = None
        session_token = cookies.get(self.cookies.session)
        if session_token and len(session_token) <= 64:
            with self.database.single_read() as conn:
                signed_in = sessions.load_session(conn, session_token, self.settings, now)
            if signed_in and sessions.needs_touch(signed_in.session, now):
                with self.database.session(write=True) as db:
                    sessions.touch(db, signed_in.session.id, now)
        drop_stale_session = bool(session_token) and signed_in is None

        user = signed_in.user if signed_in else None
        locale = self._locale(request, user.locale if user else None)
        i18n.set_locale(locale, self.settings.time_zone)
        binding = session_token if signed_in and session_token else browser_id
        state.update(
            user=user,
            roles=signed_in.roles if signed_in else frozenset(),
            block=signed_in.block if signed_in else None,
            session_token=session_token if signed_in else None,
            browser_id=browser_id,
            csrf_token=security.csrf_token(self.settings.secret_key, binding),
            locale=locale,
            flashes=self._read_flashes(cookies.get(self.cookies.flash)),
            now=now,
        )
        had_flash_cookie = self.cookies.flash in cookies

        if request.method in security.UNSAFE_METHODS:
            headers = {k.lower(): v for k, v in request.headers.items()}
            own_origin = f"{request.url.scheme}://{request.url.netloc}"
            base_origin = self.settings.base_url
            if security.is_cross_site(headers, own_origin, base_origin):
                state["csrf_refused"] = True

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.base_headers if h[0] not in names)
                headers.extend(self._cookie_headers(state, new_browser_id, drop_stale_session,
                                                    had_flash_cookie))
                if state.get("user") is not None and b"cache-control" not in names:
                    headers.append((b"cache-control", b"private, no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # Files sent to a form that expects none are never closed by its endpoint.
            for form in state.get("open_forms", ()):
                await form.close()

    def _locale(self, request: Request, preferred: str | None) -> str:
        if preferred in LOCALES:
            return str(preferred)
        cookie = request.cookies.get(LANG_COOKIE)
        if cookie in LOCALES:
            return str(cookie)
        return i18n.negotiate(request.headers.get("accept-language", ""),
                              self.settings.default_locale)

    def _read_flashes(self, raw: str | None) -> list[dict[str, str]]:
        if not raw:
            return []
        try:
            value = self.flash_signer.loads(raw)
        except BadSignature:
            return []
        return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []

    def _cookie_headers(
        self, state: dict[str, Any], new_browser_id: str | None, drop_stale: bool, had_flash: bool
    ) -> list[tuple[bytes, bytes]]:
        secure = self.settings.https
        out: list[tuple[bytes, bytes]] = []
        if new_browser_id:
            out.append((b"set-cookie", cookie_header(self.cookies.browser, new_browser_id,
                                                     secure=secure, max_age=400 * 86400)))
        if "new_session_token" in state:
            token = state["new_session_token"]
            out.append((b"set-cookie", cookie_header(
                self.cookies.session, token or "", secure=secure,
                max_age=self.settings.session_max_days * 86400 if token else 0)))
        elif drop_stale:
            out.append((b"set-cookie", cookie_header(self.cookies.session, "", secure=secure,
                                                     max_age=0)))
        if "lang_cookie" in state:
            out.append((b"set-cookie", cookie_header(LANG_COOKIE, state["lang_cookie"],
                                                     secure=secure, max_age=400 * 86400)))
        outgoing = state.get("outgoing_flashes")
        if outgoing:
            value = self.flash_signer.dumps(outgoing)
            out.append((b"set-cookie", cookie_header(self.cookies.flash, value, secure=secure)))
        elif had_flash and not state.get("keep_flashes"):
            out.append((b"set-cookie", cookie_header(self.cookies.flash, "", secure=secure,
                                                     max_age=0)))
        return out


def db(request: Request, write: bool = False) -> Any:
    database: Database = request.app.state.database
    return database.session(write=write)


async def read_form(request: Request) -> FormData:
    """Parse the form and refuse it (403) unless its CSRF token belongs to this browser."""
    if getattr(request.state, "csrf_refused", False):
        raise HTTPException(403, i18n.gettext("This form was sent from another site."))
    form = form_without_nul(
        await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS))
    request.state.open_forms = [*getattr(request.state, "open_forms", []), form]
    presented = form.get("csrf_token") or request.headers.get("x-csrf-token")
    binding = request.state.session_token or request.state.browser_id
    if not security.csrf_valid(request.app.state.settings.secret_key, binding,
                               presented if isinstance(presented, str) else None):
        raise HTTPException(
            403, i18n.gettext("Your form has expired. Go back, reload the page and try again.")
        )
    return form


def flash(request: Request, message: str, category: str = "success") -> None:
    request.state.outgoing_flashes = [
        *getattr(request.state, "outgoing_flashes", []),
        {"category": category, "message": message},
    ]


def redirect(request: Request, url: str, message: str | None = None,
             category: str = "success") -> RedirectResponse:
    """303 after a successful POST, with an optional message for the next page."""
    if message:
        flash(request, message, category)
    return RedirectResponse(url, status_code=303)


def current_user(request: Request) -> Any:
    return getattr(request.state, "user", None)


def require_user(request: Request) -> Any:
    user = current_user(request)
    if user is None:
        raise SignInRequired()
    return user


def require_role(request: Request, role: str) -> Any:
    """Anonymous: to sign-in. Signed in without the role: 403."""
    user = require_user(request)
    if role not in request.state.roles:
        raise HTTPException(403, i18n.gettext("You do not have permission to do this."))
    return user


def require_writer(request: Request) -> Any:
    """A signed-in person who is not blocked: blocked people may read but not write."""
    user = require_user(request)
    block = getattr(request.state, "block", None)
    if block is not None:
        until = (i18n.gettext("until %(date)s", date=i18n.format_day(block.ends_at))
                 if block.ends_at else i18n.gettext("with no end date"))
        raise HTTPException(403, i18n.gettext("Your account is blocked %(until)s: %(reason)s",
                                              until=until, reason=block.reason))
    return user


def client_ip(request: Request) -> str:
    """The address rate limits count by. Behind our proxy (TRUST_PROXY_HEADERS) it is the
    last X-Forwarded-For entry: the one the proxy added. Earlier entries come from the
    client, who could write anything there to dodge a limit."""
    if request.app.state.settings.trust_proxy_headers:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.client.host if request.client else "unknown"


def as_int(raw: str | None, limit: int = 10**12) -> int | None:
    """A whole number written in ASCII digits (str.isdigit also accepts '²' and '٣'), or None."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 13:
        return None
    value = int(raw)
    return value if value <= limit else None


def field_str(form: FormData, name: str, max_length: int = 10_000) -> str:
    """A text field, stripped; files and missing values become ''. Over-long values are cut
    so a validator reports them instead of the database."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.strip()[: max_length + 1]



class HeadAsGetMiddleware:
    """HEAD is answered exactly as GET, minus the body: endpoints that branch on the method
    never see "HEAD", so a HEAD with a body can never reach a POST branch (nor skip its
    cross-site check)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def no_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, no_body)
