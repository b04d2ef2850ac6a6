"""Voting in Chromium, with JavaScript on and off: a knapsack ballot, a ranked ballot, and
checking the receipt. The demo resident votes in the demo city's second round."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Watched


def _sign_in_and_open_voting(watched: Watched, base: str) -> Any:
    page = watched.page
    page.goto(base + "/signin")
    page.fill("#field-email", "resident@demo.shaar.kg")
    page.fill("#field-password", "demo-resident-pass")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")
    page.click("text=Голосование за проекты")
    page.click("main a[href$='/vote']")
    page.wait_for_url("**/vote")
    return page


def _open_budget(page: Any, n: int) -> None:
    """Open the n-th budget's ballot and wait until it is the page shown: a click returns
    before the navigation, and counting items of the page before finds none."""
    page.locator(".card a.button").nth(n).click()
    page.wait_for_url("**/vote/*")
    expect(page.locator(".ballot-item").first).to_be_visible()


# Without JavaScript every edit is a form post and a new page; locator assertions query the
# page again after the navigation, where a function waited for in the old page may be lost.

def _clear_basket(page: Any) -> None:
    remove = page.locator(".ballot-item button[value=remove]")
    while before := remove.count():
        remove.first.click()
        expect(remove).to_have_count(before - 1)


def _click_and_wait(page: Any, selector: str, chosen_before: int) -> None:
    page.locator(selector).click()
    expect(page.locator(".ballot-item.chosen")).to_have_count(chosen_before + 1)


def _cast_and_check_receipt(watched: Watched, base: str) -> None:
    page = watched.page
    page.click("#review-link")
    page.click("#cast-button")
    page.wait_for_url("**/receipts/*")
    code = page.locator("#receipt-code").inner_text().strip()
    assert len(code) == 64
    page.goto(f"{base}/receipts")
    page.fill("#field-code", code)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#check-result")
    assert code in page.url and "flash-error" not in page.locator("#check-result").inner_html()


def test_resident_casts_a_knapsack_ballot_and_checks_the_receipt(watched: Watched,
                                                                 live_server: str) -> None:
    page = _sign_in_and_open_voting(watched, live_server)
    _open_budget(page, 0)  # the district's budget comes first
    _clear_basket(page)
    items = page.locator(".ballot-item")
    ids = [items.nth(i).get_attribute("id").removeprefix("item-")  # type: ignore[union-attr]
           for i in range(items.count())]
    _click_and_wait(page, f"#act-{ids[0]}", 0)   # 800 000
    _click_and_wait(page, f"#act-{ids[1]}", 1)   # 1 200 000: the budget of 2 000 000 is full
    page.locator(f"#act-{ids[2]}").click()       # 600 000 more would go over
    page.wait_for_selector(".error-summary")
    assert page.locator(".ballot-item.chosen").count() == 2
    assert "2 000 000" in page.locator("#meter").inner_text().replace("\xa0", " ")
    js = page.evaluate("() => typeof window.htmx") == "object"
    watched.shot(f"voting-knapsack-{'js' if js else 'nojs'}")
    _cast_and_check_receipt(watched, live_server)
    # the refused edit answers 422 on purpose; Chromium logs that as a failed resource
    assert [e for e in watched.errors if "422" not in e] == [] and watched.foreign == []


def test_resident_ranks_city_wide_projects_and_checks_the_receipt(watched: Watched,
                                                                 live_server: str) -> None:
    page = _sign_in_and_open_voting(watched, live_server)
    _open_budget(page, 1)  # the city-wide budget
    _clear_basket(page)
    items = page.locator(".ballot-item")
    ids = [items.nth(i).get_attribute("id").removeprefix("item-")  # type: ignore[union-attr]
           for i in range(items.count())]
    _click_and_wait(page, f"#act-{ids[0]}", 0)
    _click_and_wait(page, f"#act-{ids[2]}", 1)
    page.locator(f"#up-{ids[2]}").click()  # the second choice becomes the first
    expect(page.locator(f"#up-{ids[2]}")).to_have_count(0)
    assert "1" in page.locator(f"#item-{ids[2]} .rank").inner_text()
    page.click("#review-link")
    first = page.locator(".choice-list li").first.inner_text()
    assert first.startswith("1.")
    page.click("#cast-button")
    page.wait_for_url("**/receipts/*")
    code = page.locator("#receipt-code").inner_text().strip()
    page.goto(f"{live_server}/receipts?code={code}")
    assert "flash-error" not in page.locator("#check-result").inner_html()
    assert watched.errors == [] and watched.foreign == []
