"""Every POST route of the route table, as every role and with a valid CSRF token: the
forms found on the pages filled with hostile values one field at a time and all at once,
oversized and malformed bodies; then every page again, looking for stored markup that comes
back unescaped. Never a server error."""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.helpers import HOSTILE
from tests.hostile.conftest import World
from tests.hostile.walker import (
    EVERYWHERE,
    MEGABYTE,
    NAUGHTY,
    ROLES,
    SKIPPED,
    SPECIAL,
    FormSpec,
    Rotation,
    RouteInfo,
    Walk,
    instances,
    parse_page,
    route_of,
    route_table,
    source_fields,
)

#: Walked last: signing out ends the session the rest of the walk needs.
LAST = ("accounts:signout",)
STAFF_FIRST = ("admin", "moderator", "jury", "clerk", "resident", "anonymous")
BOUNDARY = "hostile-boundary"


def refused(response: Any) -> bool:
    """The role may not use this route at all (so its fields were never read)."""
    if response is None:
        return False
    location = response.headers.get("location", "")
    return response.status_code in (401, 403) or location.startswith("/signin")


def multipart(fields: list[tuple[str, str]], files: list[str], value: str) -> dict[str, Any]:
    """Keyword arguments for a multipart request: the fields, and each file input carrying a
    small file whose name is the hostile value."""
    name = value[:200] or "x"
    return {"data": dict_of(fields), "files": [(f, (name, b"%PDF-1.4\n" + value.encode(),
                                                    "application/pdf")) for f in files]}


@functools.cache
def form_quoted(value: str) -> str:
    """A value as a urlencoded form body carries it. The test client quotes a megabyte byte
    by byte in Python (a sixth of a second a megabyte, four of them for every route):
    quoted once, the walk sends the same bytes."""
    return quote_plus(value)


def urlencoded(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Keyword arguments for a urlencoded request of these fields, as a browser sends it."""
    body = "&".join(f"{form_quoted(n)}={form_quoted(v)}" for n, v in fields)
    return {"content": body.encode("ascii"),
            "headers": {"content-type": "application/x-www-form-urlencoded"}}


def form_multipart(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Keyword arguments for a multipart request of these fields and no file. The test
    client sends `files=[]` urlencoded, so a multipart body without files is built here."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{quote_plus(n)}"'
             f"\r\n\r\n{v}\r\n".encode() for n, v in fields]
    return {"content": b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(),
            "headers": {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}}


def dict_of(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for name, value in fields:
        out[name].append(value)
    return dict(out)


def malformed_bodies(token: str) -> list[tuple[str, bytes]]:
    """(content-type, body) pairs that no browser sends."""
    ok_part = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
               f"{token}\r\n").encode()
    b = BOUNDARY
    return [
        ("multipart/form-data", ok_part + f"--{b}--\r\n".encode()),  # no boundary parameter
        (f"multipart/form-data; boundary={b}", ok_part),  # never closed
        (f"multipart/form-data; boundary={b}", b"--other\r\n\r\nx\r\n--other--\r\n"),
        (f"multipart/form-data; boundary={b}",
         ok_part + f"--{b}\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--{b}--\r\n"
         .encode()),
        (f"multipart/form-data; boundary={b}",
         ok_part + f"--{b}\r\nContent-Disposition: form-data; name=\"title\"\r\nX-Long: "
         .encode() + b"a" * 70_000 + f"\r\n\r\nv\r\n--{b}--\r\n".encode()),
        (f"multipart/form-data; boundary={b}",
         ok_part + f'--{b}\r\nContent-Disposition: form-data; name="title"; filename="<b>.pdf"'
         f"\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--{b}--\r\n".encode()),
        (f"multipart/form-data; boundary={b}",
         ok_part + f'--{b}\r\nContent-Disposition: form-data; name="\xff\xfe"\r\n\r\n'
         .encode("latin-1") + b"\xff\xfe\xed\xa0\x80" + f"\r\n--{b}--\r\n".encode()),
        ("multipart/form-data; boundary=", b"--\r\n"),
        ("multipart/form-data; boundary=" + "x" * 5000, b"--" + b"x" * 5000 + b"--\r\n"),
        ("application/x-www-form-urlencoded",
         f"csrf_token={token}&title=%FF%FE%ED%A0%80%C0%AF&=&&%&body=%00%0".encode()),
        ("application/x-www-form-urlencoded; charset=utf-16", f"csrf_token={token}".encode()),
        ("application/json", b'{"csrf_token": "' + token.encode() + b'", "title": "<b>"}'),
        ("text/plain", b"\x00\xff" * 100),
    ]


class FormWalk:
    def __init__(self, world: World, walk: Walk) -> None:
        self.world = world
        self.walk = walk
        self.corpus = Rotation(NAUGHTY)
        self.special = Rotation(SPECIAL)
        #: route name -> [(role, form)] found on the pages
        self.forms: dict[str, list[tuple[str, FormSpec]]] = defaultdict(list)

    def discover(self, gets: list[RouteInfo]) -> None:
        """Every page as every role (also the stored-markup check); keep the POST forms."""
        for info in gets:
            for params in instances(info, self.world.scenes):
                url = info.url(params)
                for role in ROLES:
                    response = self.walk.send(self.world.clients[role], role, "GET", url,
                                              [HOSTILE, *sorted(self.walk.sent)])
                    if response is None or response.status_code != 200 or \
                            not response.headers["content-type"].startswith("text/html"):
                        continue
                    for form in parse_page("http://testserver" + url, response.text).forms:
                        target = route_of(self.walk.routes, form.action, form.method)
                        if form.method == "POST" and target is not None:
                            self.forms[target.name].append((role, form))

    def fields_for(self, info: RouteInfo, role: str) -> tuple[list[tuple[str, str]], list[str],
                                                               list[str], bool]:
        """The page's own values of the route's form as this role saw it (else as anyone
        saw it); the field names any role's form had or the endpoint reads; further
        name-like literals of the endpoint; and whether the form is multipart."""
        found = self.forms.get(info.name, [])
        own = [f for r, f in found if r == role] or [f for _r, f in found]
        explicit, literal = source_fields(info)
        files = {n for _r, f in found for n in f.files}
        names: list[str] = []
        for candidate in [n for _r, f in found for n in f.names] + explicit:
            if candidate not in names and candidate not in files and candidate != "csrf_token":
                names.append(candidate)
        base = [(n, v) for n, v in own[0].fields if n != "csrf_token"] if own else []
        extra = [n for n in literal if n not in names]
        return base, names, extra, any(f.multipart for _r, f in found)

    def post(self, role: str, url: str, fields: list[tuple[str, str]], files: list[str],
             is_multipart: bool, values: list[str], file_value: str = "") -> Any:
        token = ("csrf_token", self.world.csrf[role])
        client = self.world.clients[role]
        if is_multipart or files:
            return self.walk.send(client, role, "POST", url, values,
                                  **multipart([token, *fields], files, file_value or "x.pdf"))
        return self.walk.send(client, role, "POST", url, values, data=dict_of([token, *fields]))

    def hostile(self, info: RouteInfo, role: str, url: str, deep: bool) -> bool:
        """Hostile values in the route's fields; False when the role may not use it."""
        base, names, extra, is_multipart = self.fields_for(info, role)
        files = sorted({n for _r, f in self.forms.get(info.name, []) for n in f.files})
        first = self.post(role, url, base, files, is_multipart, [])
        if refused(first):
            return False
        for value in self.corpus.take(2 if deep else 1):
            self.post(role, url, [(n, value) for n in names + extra], files, is_multipart,
                      [value], value)
        if not deep:
            return
        for name in names:
            value = self.corpus.take(1)[0]
            fields = [(n, v) for n, v in base if n != name] + [(name, value)]
            self.post(role, url, fields, files, is_multipart, [value], value)
        for value in [*EVERYWHERE, *self.special.take(3)]:
            self.post(role, url, [(n, value) for n in names], files, is_multipart, [value], value)
        # An unknown field, and no fields at all.
        self.post(role, url, [*base, ("<b>unknown</b>", "<b>1</b>")], files, is_multipart, [])
        self.post(role, url, [], [], False, [])
        return True

    def path_values(self, info: RouteInfo, role: str) -> None:
        """Hostile text, and numbers too big for the database, in the path parameters."""
        base, _names, _extra, is_multipart = self.fields_for(info, role)
        params = instances(info, self.world.scenes)[0]
        for name in info.str_params:
            for value in self.corpus.take(2):
                self.post(role, info.url({**params, name: value}), base, [], is_multipart,
                          [value])
        for name in info.int_params:
            for value in ("0", "2147483648", "99999999999999999999"):
                self.post(role, info.url({**params, name: value}), base, [], is_multipart, [])

    def oversized(self, info: RouteInfo, role: str, url: str) -> None:
        """A megabyte in every field, thousands of repeated fields, malformed bodies."""
        _base, names, _extra, _multipart = self.fields_for(info, role)
        token = self.world.csrf[role]
        client = self.world.clients[role]
        names = names or ["title"]
        # A mebibyte in four fields; then just under a megabyte in every field, urlencoded and
        # as multipart, where Starlette refuses a part over 1 MiB (400).
        self.walk.send(client, role, "POST", url, [], **urlencoded(
            [("csrf_token", token), *((n, MEGABYTE) for n in names[:4])]))
        under = [(n, MEGABYTE[:1_000_000]) for n in names]
        self.walk.send(client, role, "POST", url, [], **urlencoded([("csrf_token", token),
                                                                   *under]))
        self.walk.send(client, role, "POST", url, [], **form_multipart([("csrf_token", token),
                                                                       *under]))
        self.walk.send(client, role, "POST", url, [], data={"csrf_token": token,
                                                            names[0]: ["1"] * 5000})
        for content_type, body in malformed_bodies(token):
            self.walk.send(client, role, "POST", url, [], content=body,
                           headers={"content-type": content_type, "x-csrf-token": token})


# It walks every form of every page: minutes on a loaded 2-core machine.
@pytest.mark.timeout(1200)
def test_every_form_survives_hostile_values(world: World) -> None:
    started = time.monotonic()
    routes, _others = route_table()
    walk = Walk(routes)
    forms = FormWalk(world, walk)
    gets = [r for r in routes if "GET" in r.methods and r.name not in SKIPPED]
    posts = sorted((r for r in routes if "POST" in r.methods and r.name not in SKIPPED),
                   key=lambda r: r.name in LAST)
    walk.lap("start")
    forms.discover(gets)
    walk.lap("every page as every role, forms found")

    undiscovered = sorted(r.name for r in posts if r.name not in forms.forms)
    for info in posts:
        # Every field one at a time for the first role let in; the rest get all fields at
        # once, for every seeded filling of the path.
        allowed: list[tuple[str, str]] = []
        for role in ROLES:
            for params in instances(info, world.scenes):
                url = info.url(params)
                if forms.hostile(info, role, url, deep=not allowed):
                    allowed.append((role, url))
            if not world.signed_in(role):
                world.sign_in(role)
        # The heavy bodies once per route, as the most trusted role the route lets in.
        if allowed:
            role, url = min(allowed, key=lambda a: STAFF_FIRST.index(a[0]))
        else:
            role, url = "admin", info.url(instances(info, world.scenes)[0])
        forms.oversized(info, role, url)
        forms.path_values(info, role)
        for role in ROLES:
            if not world.signed_in(role):
                world.sign_in(role)
    walk.lap("hostile forms")

    # What was stored comes back escaped on every page, for every role.
    forms.discover(gets)
    walk.lap("every page again, with what was stored")
    print("\n".join(walk.laps), f"\nhostile forms: {walk.requests} requests in "
          f"{time.monotonic() - started:.1f}s; POST routes without a form on any page: "
          f"{undiscovered}")
    assert not walk.failures, walk.report()
    assert not walk.missing(["POST"]), walk.missing(["POST"])
    # The walk got past the sign-in and CSRF gates to the endpoints' own checks: every role
    # had forms refused as invalid (422 comes only after the CSRF check), and many writes
    # by signed-in people were accepted (an anonymous 303 is mostly "sign in first").
    print(sorted(walk.answers.items()))
    for role in ROLES:
        assert walk.count("POST", role, [422]) > 5, role
    assert sum(walk.count("POST", role, [303]) for role in ROLES[1:]) > 200
