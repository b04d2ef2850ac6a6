"""The published results page is rendered once per publication and language and then served
from memory, while what belongs to the reader (header, form tokens, flash) is rendered for
each request; the jury's unpublished count is never kept; the cache stays bounded."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from starlette.testclient import TestClient

from core.db import Database
from results.cache import PageCache
from tests.helpers import make_user, sign_in
from tests.results.factories import make_voted_round
from tests.results.test_pages import count_and_publish, post, signed_in

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_the_published_page_is_kept_per_language_and_not_per_reader(
        app: Any, database: Database) -> None:
    setup = make_voted_round(database)
    jury = signed_in(app, database, "jury")
    path = f"/rounds/{setup.round.id}/results"
    assert post(jury, f"{path}/count", {}).status_code == 303
    assert "Computed winners" in jury.get(path).text
    assert len(getattr(app.state, "results_pages", [])) == 0  # the jury's count is not kept
    assert count_and_publish(jury, setup.round.id).status_code == 303

    make_user(database, "reader@example.kg", name="Aizada Reader")
    reader = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    sign_in(reader, "reader@example.kg")
    first = reader.get(path)
    assert first.status_code == 200 and "Sign out" in first.text
    anonymous = TestClient(app, headers={"Accept-Language": "en"}).get(path).text
    assert "Sign out" not in anonymous and "Sign in" in anonymous
    assert "Publish the results" not in jury.get(path).text
    assert len(app.state.results_pages) == 1
    reader_tokens = set(TOKEN.findall(first.text))
    assert reader_tokens and reader_tokens.isdisjoint(TOKEN.findall(jury.get(path).text))

    def published_part(html: str) -> str:
        return html.split("<h1>", 1)[1].split("</main>", 1)[0]

    assert published_part(first.text) == published_part(anonymous)
    russian = TestClient(app, headers={"Accept-Language": "ru"}).get(path).text
    assert "Winners" not in russian and "Победители" in russian
    assert "Winners" in anonymous
    assert len(app.state.results_pages) == 2


def test_the_cache_forgets_the_least_recently_read_page() -> None:
    cache = PageCache(max_pages=2)
    built: list[tuple[int, str]] = []

    def page(key: tuple[int, str]) -> Markup:
        def build() -> Markup:
            built.append(key)
            return Markup(f"<p>{key}</p>")
        return cache.get(key, build)

    page((1, "en"))
    page((2, "en"))
    page((1, "en"))
    page((3, "en"))  # evicts (2, "en"), read longest ago
    page((1, "en"))
    page((2, "en"))
    assert built == [(1, "en"), (2, "en"), (3, "en"), (2, "en")]
    assert len(cache) == 2
