"""Every GET route of the route table, as every role, with hostile query parameters and
hostile path parameters: never a server error, and markup never comes back unescaped."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from tests.helpers import HOSTILE
from tests.hostile.conftest import World
from tests.hostile.walker import (
    EVERYWHERE,
    LONG_QUERY_VALUE,
    NAUGHTY,
    QUERY_NAMES,
    ROLES,
    SKIPPED,
    SPECIAL,
    Rotation,
    Walk,
    instances,
    parse_page,
    query_names,
    route_of,
    route_table,
)

#: (role, route name, query parameters): the whole corpus goes through these, one value in
#: all the named parameters at once: free text, dates and a redirect target.
WHOLE_CORPUS = (("admin", "admin:audit", ("action", "actor", "since", "until")),
                ("anonymous", "accounts:signin", ("next",)))
#: Values that break the path itself rather than its parameter.
PATH_BREAKERS = ["..", ".", "a/b", "%2e%2e", "%00", "%", "\\", "?x=<b>", "#<b>", " "]
HUGE_IDS = ["0", "2147483648", "9223372036854775808", "99999999999999999999999999"]


def test_the_route_table_is_walkable() -> None:
    routes, others = route_table()
    assert len(routes) > 80
    assert set(others) <= set(SKIPPED), "a mount the walk does not know; add it to SKIPPED"
    assert set(SKIPPED) <= {r.name for r in routes} | set(others), "stale SKIPPED entry"
    assert len(NAUGHTY) > 400


# It walks every form of every page: minutes on a loaded 2-core machine.
@pytest.mark.timeout(1200)
def test_every_page_survives_hostile_query_and_path_values(world: World) -> None:
    started = time.monotonic()
    routes, _others = route_table()
    walk = Walk(routes)
    corpus, special = Rotation(NAUGHTY), Rotation(SPECIAL)
    gets = [r for r in routes if "GET" in r.methods and r.name not in SKIPPED]
    walk.lap("start")

    # Every page as every role, with real ids (the seeded titles and names carry markup);
    # note the query parameters each page's own forms and links use.
    names: dict[str, set[str]] = defaultdict(set)
    shown: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for info in gets:
        for params in instances(info, world.scenes):
            url = info.url(params)
            for role in ROLES:
                response = walk.send(world.clients[role], role, "GET", url, [HOSTILE])
                if response is None or response.status_code != 200:
                    continue
                shown[info.name].append((role, url))
                if not response.headers["content-type"].startswith("text/html"):
                    continue
                page = parse_page("http://testserver" + url, response.text)
                for form in page.forms:
                    target = route_of(routes, form.action, "GET")
                    if form.method == "GET" and target is not None:
                        names[target.name].update(form.names)
                for link in page.links:
                    target = route_of(routes, link, "GET")
                    if target is not None:
                        names[target.name].update(query_names(link))

    walk.lap("every page as every role")
    # Hostile query values where the page is shown: every known parameter at once, then one
    # parameter at a time, spread over the roles and ids that see the page.
    for info in gets:
        for i, (role, url) in enumerate(shown[info.name]):
            client = world.clients[role]
            keys = sorted(names[info.name] | set(QUERY_NAMES))
            for value in corpus.take(1) + ([*EVERYWHERE, *special.take(2)] if i == 0 else []):
                walk.send(client, role, "GET", url, [value], params=[(k, value) for k in keys])
            if i > 0:
                continue
            for key in sorted(names[info.name]):
                value = corpus.take(1)[0]
                walk.send(client, role, "GET", url, [value], params={key: value})
            walk.send(client, role, "GET", url, [], params={keys[0]: LONG_QUERY_VALUE})
            walk.send(client, role, "GET", url, [], params=[(keys[n % len(keys)], str(n))
                                                            for n in range(3000)])
            walk.send(client, role, "GET", f"{url}?{keys[0]}=%FF%FE%ED%A0%80%C0%AF&%=%%&&=&")

    walk.lap("hostile query values")
    # The whole corpus through a few representative parameters.
    by_name = {r.name: r for r in routes}
    for role, name, keys in WHOLE_CORPUS:
        url = by_name[name].url({})
        assert set(keys) <= names[name] | set(QUERY_NAMES), (name, keys)
        for value in NAUGHTY:
            walk.send(world.clients[role], role, "GET", url, [value],
                      params=[(k, value) for k in keys])

    walk.lap("the whole corpus")
    # Hostile text in every str path parameter; huge numbers in every int one.
    for info in gets:
        base = instances(info, world.scenes)[0]
        for role in ("anonymous", "admin"):
            client = world.clients[role]
            for name in info.str_params:
                for value in [*corpus.take(3), *special.take(2), *PATH_BREAKERS[:3]]:
                    walk.send(client, role, "GET", info.url({**base, name: value}), [value])
            for name in info.int_params:
                for value in HUGE_IDS:
                    walk.send(client, role, "GET", info.url({**base, name: value}))

    walk.lap("hostile path parameters")
    print("\n".join(walk.laps), f"\nhostile pages: {walk.requests} requests in "
          f"{time.monotonic() - started:.1f}s")
    assert not walk.failures, walk.report()
    assert not walk.missing(["GET"]), walk.missing(["GET"])
