"""The demo city in a real browser, with JavaScript on and off."""

import re
from typing import Any

import pytest

from tests.browser.conftest import Watched

PAGES = ["/", "/ideas", "/ideas/2027-00001", "/rounds/1", "/signin", "/signup",
         "/password/forgot", "/open-data", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_without_errors_or_foreign_requests(watched: Watched, live_server: str,
                                                       path: str) -> None:
    response = watched.page.goto(live_server + path)
    assert response is not None
    assert response.status == (404 if path == "/no-such-page" else 200)
    assert watched.page.locator("h1").count() == 1
    assert watched.page.locator("main#main").count() == 1
    errors = [e for e in watched.errors if "404" not in e or path != "/no-such-page"]
    assert errors == [] and watched.foreign == []
    watched.shot(f"page{path.replace('/', '_')}")


def test_the_idea_filter_updates_in_place_and_the_url_follows(browser: Any,
                                                              live_server: str) -> None:
    context = browser.new_context(locale="ru")
    page = context.new_page()
    page.goto(live_server + "/ideas")
    page.evaluate("() => { window.__same_document = true; }")
    page.click(".filter-toggle summary")  # the filters are folded behind one control
    with page.expect_response(lambda r: "sort=cost_desc" in r.url):
        page.select_option("#filter-sort", "cost_desc")
    page.wait_for_function("() => location.search.includes('sort=cost_desc')")
    assert page.evaluate("() => window.__same_document") is True  # no full page load
    costs = costs_on(page)
    assert len(costs) >= 5 and costs == sorted(costs, reverse=True)
    page.go_back()
    page.wait_for_function("() => !location.search.includes('sort=cost_desc')")
    assert page.locator("h1").count() == 1  # history restore gets a whole page
    context.close()


def costs_on(page: Any) -> list[int]:
    texts = page.locator(".card .meta").all_inner_texts()
    return [int(re.sub(r"\D", "", m)) for t in texts for m in re.findall(r"[\d\s\u00a0]+ сом", t)]


def test_the_idea_filter_works_without_javascript(browser: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, locale="ru")
    page = context.new_page()
    page.goto(live_server + "/ideas")
    assert not page.locator("#filter-sort").is_visible()  # folded: the ideas come first
    page.click(".filter-toggle summary")
    page.select_option("#filter-sort", "cost_asc")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"sort=cost_asc"))  # and for the page's load event
    costs = costs_on(page)
    assert len(costs) >= 5 and costs == sorted(costs)
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_switching_to_kyrgyz_keeps_the_page(browser: Any, live_server: str, js: bool) -> None:
    context = browser.new_context(java_script_enabled=js, locale="ru")
    page = context.new_page()
    page.goto(live_server + "/ideas?sort=cost_desc")
    page.click("button[name=locale][value=ky]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ky"
    assert page.locator("h1").inner_text() == "Идеялар"
    assert "sort=cost_desc" in page.url
    context.close()


def test_a_resident_signs_in_with_the_keyboard_alone(browser: Any, live_server: str) -> None:
    context = browser.new_context(locale="ru")
    page = context.new_page()
    page.goto(live_server + "/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # from the skipped-to main, the first field
    for _ in range(5):
        if page.evaluate("() => document.activeElement.id") == "field-email":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("resident@demo.shaar.kg")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-resident-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/")
    assert page.locator("text=Вы вошли").count() == 1
    page.goto(live_server + "/account")
    assert page.locator("h1").inner_text() == "Мой профиль"
    context.close()
