"""The walk's detectors catch what they are there to catch: a server error, markup reflected
unescaped, a route nobody walked."""

from __future__ import annotations

from markupsafe import escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.hostile.walker import PageParser, Walk, leaks, parse_page, route_table


async def raw(request: Request) -> HTMLResponse:
    return HTMLResponse(f"<p>{request.query_params.get('q', '')}</p>")


async def escaped(request: Request) -> HTMLResponse:
    return HTMLResponse(f"<p>{escape(request.query_params.get('q', ''))}</p>")


async def boom(request: Request) -> HTMLResponse:
    raise OverflowError("Python int too large to convert to SQLite INTEGER")


TABLE = [Route("/raw", raw, name="raw"), Route("/escaped", escaped, name="escaped"),
         Route("/boom/{n:int}", boom, name="boom", methods=["GET", "POST"])]


def test_the_walk_reports_reflection_server_errors_and_routes_left_out() -> None:
    routes, _others = route_table(TABLE)
    walk = Walk(routes)
    value = "<script>alert(1)</script>"
    with TestClient(Starlette(routes=TABLE)) as client:
        walk.send(client, "anonymous", "GET", "/escaped", [value], params={"q": value})
        assert walk.failures == []
        walk.send(client, "anonymous", "GET", "/raw", [value], params={"q": value})
        walk.send(client, "anonymous", "GET", "/boom/7")
    assert "comes back unescaped" in walk.failures[0]
    assert "OverflowError" in walk.failures[1] and "/boom/7" in walk.failures[1]
    assert walk.missing(["GET", "POST"]) == ["POST /boom/{n:int} (boom)"]


def test_only_markup_counts_as_reflection() -> None:
    assert leaks("<p><b>x</b></p>", "<b>x</b>")
    assert not leaks("<p>&lt;b&gt;x&lt;/b&gt;</p>", "<b>x</b>")
    assert not leaks("<p>1 < 2</p>", "1 < 2"), "a bare < is text, not markup"
    assert leaks('<input value="x" onfocus="alert(1)">', 'x" onfocus="alert(1)')
    assert not leaks('<input value="x&#34; onfocus=&#34;alert(1)">', 'x" onfocus="alert(1)')
    assert not leaks("<p>it's 5 o'clock</p>", "it's 5 o'clock")


def test_forms_are_read_with_their_values() -> None:
    page: PageParser = parse_page("http://testserver/ideas/1", """
        <form method="post" action="/ideas/1/comments" enctype="multipart/form-data">
          <input type="hidden" name="csrf_token" value="t">
          <input name="title" value="Benches &amp; shade">
          <input type="checkbox" name="notify" value="yes" checked>
          <input type="checkbox" name="quiet" value="yes">
          <select name="district"><option value="1">A</option>
            <option value="2" selected>B</option></select>
          <textarea name="body">Hello</textarea><input type="file" name="photo">
          <button name="action" value="draft">Save</button>
          <button name="action" value="submit">Send</button>
          <button formaction="/ideas/1/attachments/2/delete">Remove</button>
        </form>
        <form><input name="q"></form><a href="/ideas?sort=new&amp;page=2">next</a>""")
    comment, remove, search = page.forms
    assert (remove.action, remove.fields) == ("http://testserver/ideas/1/attachments/2/delete",
                                              comment.fields)
    assert (comment.action, comment.method, comment.multipart) == (
        "http://testserver/ideas/1/comments", "POST", True)
    assert comment.fields == [("csrf_token", "t"), ("title", "Benches & shade"),
                              ("notify", "yes"), ("district", "2"), ("body", "Hello"),
                              ("action", "draft")]
    assert comment.names == ["csrf_token", "title", "notify", "quiet", "district", "body",
                             "photo", "action"]
    assert comment.files == ["photo"]
    assert (search.action, search.method, search.names) == ("http://testserver/ideas/1", "GET",
                                                            ["q"])
    assert page.links == ["http://testserver/ideas?sort=new&page=2"]
