"""The demo's published results in Chromium, in Russian and Kyrgyz: no errors, no foreign
requests, charts drawn; screenshots kept as artifacts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Watched


def demo_results_round(live_server: str) -> int:
    import httpx

    contests = httpx.get(f"{live_server}/api/contests").json()["contests"]
    rounds = [r for c in contests for r in c["rounds"] if r["results"]]
    assert rounds, contests
    return int(rounds[0]["id"])


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_results_page_in_each_language(browser: Any, live_server: str, lang: str) -> None:
    round_id = demo_results_round(live_server)
    context = browser.new_context(java_script_enabled=False, locale=lang,
                                  extra_http_headers={"Accept-Language": lang},
                                  viewport={"width": 1024, "height": 900})
    watched = Watched(context.new_page(), live_server)
    page = watched.page
    page.goto(f"{live_server}/rounds/{round_id}/results")
    assert page.locator("html").get_attribute("lang") == lang
    heading = {"ru": "Итоги", "ky": "Жыйынтыктар"}[lang]
    assert page.locator("h1").inner_text() == heading
    assert page.locator(".chart .bars li").count() >= 4
    assert page.locator(".chart .bar-label").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)") >= 14  # readable, not scaled down
    assert page.locator("#results-head").inner_text().strip() != ""
    watched.shot(f"results-{lang}")
    assert watched.errors == [] and watched.foreign == []
    context.close()
