"""Ready for X-Road (Tunduk): every request under /api/ writes one JSON access log line with
our own request id and the X-Road headers the security server sent; no response sets an
`X-Road-*` header (the protocol reserves them for the security server); and no answer under
/api/ is a redirect (the security server does not follow them): one becomes a 404 problem."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: One line per API request, JSON. Route it with logging configuration like any logger.
access_log = logging.getLogger("shaar.api.access")

#: The headers the security server adds (PR-REST), as they appear in the log.
XROAD_HEADERS = {b"x-road-client": "x_road_client", b"x-road-id": "x_road_id",
                 b"x-road-userid": "x_road_user_id", b"x-road-issue": "x_road_issue"}
MAX_LOGGED = 300  # characters kept of each header value
REDIRECTS = (301, 302, 303, 307, 308)

#: The older unversioned paths keep working and say what replaces them (RFC 9745
#: `Deprecation`, the date it was deprecated; RFC 8288 `Link` rel="successor-version").
DEPRECATED_SINCE = datetime(2026, 12, 1, tzinfo=UTC)
DEPRECATED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/api/contests"), "/api/v1/contests"),
    (re.compile(r"/api/rounds/([0-9]{1,9})"), "/api/v1/rounds/{0}"),
    (re.compile(r"/api/rounds/([0-9]{1,9})/ideas"), "/api/v1/ideas?round={0}"),
    (re.compile(r"/api/rounds/([0-9]{1,9})/results"), "/api/v1/rounds/{0}/results"),
    (re.compile(r"/api/projects"), "/api/v1/projects"),
]


def successor(path: str) -> str | None:
    """The /api/v1/ path that replaces an older one, or None."""
    for pattern, target in DEPRECATED:
        m = pattern.fullmatch(path)
        if m is not None:
            return target.format(*m.groups())
    return None


def deprecation_headers(path: str) -> list[tuple[bytes, bytes]]:
    target = successor(path)
    if target is None:
        return []
    return [(b"deprecation", f"@{int(DEPRECATED_SINCE.timestamp())}".encode()),
            (b"link", f'<{target}>; rel="successor-version"'.encode()),
            (b"link", b'</api/v1/openapi.json>; rel="service-desc"')]


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _text(raw: bytes) -> str:
    return raw.decode("latin-1")[:MAX_LOGGED]


class ApiAccessMiddleware:
    """Outermost: it sees the method as sent (HEAD too) and every header the app set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not is_api_path(scope["path"]):
            await self.app(scope, receive, _without_xroad(send))
            return
        began = time.perf_counter()
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        entry: dict[str, object] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": request_id, "method": scope["method"], "path": scope["path"][:2000],
            "query": _text(scope.get("query_string", b"")),
            **{name: None for name in XROAD_HEADERS.values()}}
        for name, value in scope.get("headers", []):
            key = XROAD_HEADERS.get(name.lower())
            if key is not None:
                entry[key] = _text(value)
        status = 500
        replaced = False

        async def wrapped(message: Message) -> None:
            nonlocal status, replaced
            if message["type"] == "http.response.start":
                status = message["status"]
                if status in REDIRECTS:
                    replaced = True
                    status = 404
                    await _send_not_found(send, request_id)
                    return
                # No cookies either: the API is the same for everyone and reads none.
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not k.lower().startswith(b"x-road-")
                           and k.lower() != b"set-cookie"]
                headers.append((b"x-request-id", request_id.encode()))
                headers += deprecation_headers(scope["path"])
                message = {**message, "headers": headers}
            elif replaced:
                return
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            entry["status"] = status
            entry["duration_ms"] = round((time.perf_counter() - began) * 1000, 2)
            access_log.info(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


async def _send_not_found(send: Send, request_id: str) -> None:
    body = json.dumps({"type": "about:blank", "title": "Not Found", "status": 404}).encode()
    await send({"type": "http.response.start", "status": 404, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode())]})
    await send({"type": "http.response.body", "body": body})


def _without_xroad(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [
                (k, v) for k, v in message.get("headers", [])
                if not k.lower().startswith(b"x-road-")]}
        await send(message)
    return wrapped
