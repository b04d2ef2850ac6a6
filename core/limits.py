"""A cap on the size of request bodies, enforced before and while the body is read.

`BodySizeLimitMiddleware` guarantees that no endpoint behind it receives more than `max_bytes`
of body: a request that declares a larger `Content-Length` gets 413 without a byte of its body
being read, and a body of unknown length is counted as the app reads it and cut off at the limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TooLargeHandler = Callable[[Scope, Receive, Send], Awaitable[None]]

_BODY = b"Request body too large"
# More digits than this cannot be a length any server accepts; int() of thousands of digits is
# slow and, past 4300, refused by Python, so such a header is simply "too large".
_MAX_LENGTH_DIGITS = 18


class BodyTooLarge(Exception):
    """Raised from `receive` once the body passes the limit, so the endpoint stops reading."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"request body is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


async def request_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The default answer: a plain-text 413 that asks the client to close the connection."""
    headers = [(b"content-type", b"text/plain; charset=utf-8"),
               (b"content-length", str(len(_BODY)).encode())]
    # The unread rest of the body would otherwise be taken for the next request on this
    # HTTP/1 connection; HTTP/2 forbids the header and needs no help.
    if scope.get("http_version", "1.1") in ("1.0", "1.1"):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


class BodySizeLimitMiddleware:
    """Refuse HTTP request bodies larger than `max_bytes` with 413.

    - `Content-Length` above the limit (or unparseably long): `on_too_large` answers at once and
      the app is never called.
    - `Content-Length` within the limit: the request passes untouched; the server already holds
      the body to its declared length, so counting again would only cost time.
    - No `Content-Length` (chunked, HTTP/2 streams): bytes are counted as the app receives them.
      The message that would cross the limit is not delivered; instead `receive` raises
      `BodyTooLarge` (and keeps raising). If the app had not started a response by then, whatever
      it tries to send afterwards is dropped and `on_too_large` answers; `BodyTooLarge` (or any
      error the app raised because of it) does not propagate. If the app had already started a
      response, it is left as it is, unfinished.

    Websocket and lifespan scopes pass through.
    """

    def __init__(self, app: ASGIApp, max_bytes: int,
                 on_too_large: TooLargeHandler | None = None) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes
        self.on_too_large = on_too_large or request_too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = self._declared_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await self.on_too_large(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    def _declared_length(self, scope: Scope) -> int | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    return None  # malformed: fall back to counting what actually arrives
                if len(value) > _MAX_LENGTH_DIGITS:
                    return self.max_bytes + 1
                return int(value)
        return None

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        max_bytes = self.max_bytes
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge(max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    exceeded = True
                    raise BodyTooLarge(max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the 413 below replaces whatever the app makes of the error
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # Anything the app raises after its body was cut off is a consequence of the cut.
            if not exceeded:
                raise
        if exceeded and not started:
            await self.on_too_large(scope, receive, send)
