"""Oversized request bodies are refused with 413 before the app reads past the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from core.limits import BodySizeLimitMiddleware, BodyTooLarge

pytestmark = pytest.mark.anyio
LIMIT = 5000
PIECE = 1000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Counter:
    """How many body bytes the endpoint received, and how many the client produced."""

    def __init__(self) -> None:
        self.read = 0
        self.sent = 0
        self.calls = 0


def make_app(counter: Counter, **options: Any) -> Starlette:
    async def upload(request: Request) -> Response:
        counter.calls += 1
        async for chunk in request.stream():
            counter.read += len(chunk)
        return PlainTextResponse(f"read {counter.read}")

    async def careless(request: Request) -> Response:
        # An endpoint that swallows every error must still not answer for a cut-off body.
        try:
            await request.body()
        except Exception:
            return PlainTextResponse("something went wrong", status_code=500)
        return PlainTextResponse("ok")

    async def form(request: Request) -> Response:
        async with request.form() as data:
            return PlainTextResponse(f"{len(data)} fields")

    return Starlette(
        routes=[Route("/", upload, methods=["POST"]),
                Route("/careless", careless, methods=["POST"]),
                Route("/form", form, methods=["POST"])],
        middleware=[Middleware(BodySizeLimitMiddleware, max_bytes=LIMIT, **options)],
    )


async def post(app: Starlette, content: Any, path: str = "/",
               headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://testserver") as client:
        return await client.post(path, content=content, headers=headers)


def pieces(counter: Counter, total: int) -> AsyncIterator[bytes]:
    """A body without Content-Length (sent chunked), counting what the client hands over."""
    async def generate() -> AsyncIterator[bytes]:
        while counter.sent < total:
            counter.sent += PIECE
            yield b"x" * PIECE
    return generate()


async def test_a_declared_oversize_body_is_refused_without_reading_a_byte() -> None:
    counter = Counter()
    response = await post(make_app(counter), b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.text == "Request body too large"
    assert response.headers["connection"] == "close"
    assert (counter.calls, counter.read) == (0, 0)


async def test_a_declared_body_within_the_limit_passes_whole() -> None:
    counter = Counter()
    response = await post(make_app(counter), b"x" * LIMIT)
    assert (response.status_code, response.text) == (200, f"read {LIMIT}")


async def test_a_chunked_oversize_body_is_cut_off_at_the_limit() -> None:
    counter = Counter()
    response = await post(make_app(counter), pieces(counter, 50 * LIMIT))
    assert response.status_code == 413
    assert counter.calls == 1 and counter.read <= LIMIT
    assert counter.sent <= LIMIT + PIECE  # nothing more was even asked of the client


async def test_a_chunked_body_within_the_limit_passes_whole() -> None:
    counter = Counter()
    response = await post(make_app(counter), pieces(counter, LIMIT))
    assert (response.status_code, response.text) == (200, f"read {LIMIT}")


async def test_an_endpoint_that_swallows_the_error_cannot_answer_instead() -> None:
    counter = Counter()
    response = await post(make_app(counter), pieces(counter, 50 * LIMIT), "/careless")
    assert (response.status_code, response.text) == (413, "Request body too large")


async def test_a_multipart_form_that_grows_too_large_is_refused() -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.jpg\"\r\n\r\n"
        for _ in range(100):
            yield b"y" * PIECE
    response = await post(make_app(Counter()), parts(), "/form",
                          {"content-type": "multipart/form-data; boundary=B"})
    assert response.status_code == 413


async def test_the_refusal_page_can_be_replaced() -> None:
    custom = PlainTextResponse("Слишком большой файл", status_code=413)
    counter = Counter()
    app = make_app(counter, on_too_large=custom)
    for body in (b"x" * (LIMIT + 1), pieces(counter, 50 * LIMIT)):
        response = await post(app, body)
        assert (response.status_code, response.text) == (413, "Слишком большой файл")


# Raw ASGI calls: what exactly passes between the server and the app.

def http_scope(*headers: tuple[bytes, bytes]) -> Scope:
    return {"type": "http", "http_version": "1.1", "method": "POST", "path": "/",
            "headers": list(headers)}


async def never_receive() -> Message:
    raise AssertionError("the body must not be read")


async def call(app: Any, scope: Scope, receive: Receive = never_receive) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await BodySizeLimitMiddleware(app, max_bytes=LIMIT)(scope, receive, send)
    return sent


async def must_not_run(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("the app must not be called")


@pytest.mark.parametrize("length", [b"5001", b"9" * 5000])
async def test_the_server_is_never_asked_for_a_declared_oversize_body(length: bytes) -> None:
    sent = await call(must_not_run, http_scope((b"content-length", length)))
    assert sent[0]["status"] == 413 and sent[-1]["body"] == b"Request body too large"


async def test_a_malformed_length_is_counted_instead() -> None:
    messages = iter([{"type": "http.request", "body": b"x" * PIECE, "more_body": True}] * 10)

    async def receive() -> Message:
        return next(messages)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            await receive()

    sent = await call(app, http_scope((b"content-length", b"12abc")), receive)
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]


async def test_a_response_already_started_is_left_alone() -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * (LIMIT + 1), "more_body": True}

    async def streaming_echo(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()

    sent = await call(streaming_echo, http_scope(), receive)
    assert [m.get("status") for m in sent] == [200]


async def test_receive_keeps_refusing_after_the_limit() -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * (LIMIT + 1), "more_body": True}

    errors: list[BodyTooLarge] = []

    async def stubborn(scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(2):
            try:
                await receive()
            except BodyTooLarge as exc:
                errors.append(exc)

    sent = await call(stubborn, http_scope(), receive)
    assert len(errors) == 2 and errors[0].max_bytes == LIMIT
    assert sent[0]["status"] == 413


async def test_other_errors_of_the_app_still_propagate() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        await call(broken, http_scope())


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_other_scopes_pass_through_untouched(kind: str) -> None:
    seen: list[Receive] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(receive)

    await call(app, {"type": kind, "headers": []})
    assert seen == [never_receive]


def test_a_negative_limit_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        BodySizeLimitMiddleware(must_not_run, max_bytes=-1)
