"""HEAD behaves as GET on every route that takes both GET and POST: with a valid token and a
form body it answers what GET answers (never the redirect or 422 of the POST branch), bodiless."""

from __future__ import annotations

from tests.helpers import HOSTILE
from tests.hostile.conftest import World
from tests.hostile.walker import SKIPPED, instances, route_table


def test_head_with_a_token_and_a_body_answers_as_get_on_every_get_post_route(
        world: World) -> None:
    routes, _others = route_table()
    both = [r for r in routes if {"GET", "POST"} <= set(r.methods) and r.name not in SKIPPED]
    assert both, "no GET+POST routes found"
    client, token = world.clients["admin"], world.csrf["admin"]
    checked = 0
    for info in both:
        for params in instances(info, world.scenes)[:1]:
            url = info.url(params)
            got = client.get(url)
            head = client.request("HEAD", url, data={
                "csrf_token": token, "display_name": HOSTILE, "title": HOSTILE,
                "body": HOSTILE, "action": "submit"})
            assert head.status_code == got.status_code, (info.name, url, head.status_code)
            assert head.content == b"", (info.name, url)
            checked += 1
    assert checked >= len(both) // 2
