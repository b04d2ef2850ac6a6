"""The simulation page in Chromium, with and without JavaScript: an admin uploads a real
pabulib file and then simulates the demo's finished round; every page passes axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe_check import AxeChecker
from tests.browser.conftest import CHROMIUM, Watched
from tests.tally.tally_helpers import pabulib_file

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def axe(browser: Any) -> Iterator[AxeChecker]:
    checker = AxeChecker(browser)
    yield checker
    checker.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_an_admin_compares_the_rules_in_the_browser(browser: Any, live_server: str,
                                                    axe: AxeChecker, js: bool) -> None:
    path = pabulib_file("Netherlands_Assen_2024.pb")
    context = browser.new_context(java_script_enabled=js, locale="en",
                                  extra_http_headers={"Accept-Language": "en"},
                                  viewport={"width": 1280, "height": 900})
    who = Watched(context.new_page(), live_server)
    page = who.page
    name = "js" if js else "nojs"
    try:
        page.goto(f"{live_server}/signin")
        page.fill("#field-email", "admin@demo.shaar.kg")
        page.fill("#field-password", "demo-admin-pass")
        page.click("form[action='/signin'] button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/admin")
        page.click("a[href='/admin/simulate']")
        page.wait_for_url(f"{live_server}/admin/simulate")
        axe.check(page, f"simulate-{name}-form")

        page.set_input_files("#field-file", str(path))
        page.click("form:has(#field-file) button[type=submit]")
        table = page.locator("#file-table")
        expect(table.locator("tbody tr")).to_have_count(14)  # waits for the answer
        assert table.locator("caption").count() == 1
        who.shot(f"simulate-{name}-file")
        axe.check(page, f"simulate-{name}-file")

        page.select_option("#field-round", index=0)
        page.click("form:has(#field-round) button[type=submit]")
        expect(page.locator("table[id^=pot-]").first).to_be_attached()
        who.shot(f"simulate-{name}-round")
        axe.check(page, f"simulate-{name}-round")

        broken = path.parent / "missing.pb"
        assert not broken.exists()
        page.set_input_files("#field-file", files=[{"name": "broken.pb",
                                                     "mimeType": "text/plain",
                                                     "buffer": b"VOTES\n"}])
        page.click("form:has(#field-file) button[type=submit]")
        expect(page.locator(".error-summary")).to_contain_text("not a valid pabulib file")
        axe.check(page, f"simulate-{name}-error")
        assert [e for e in who.errors if "422" not in e] == [] and who.foreign == []
    finally:
        context.close()
    axe.assert_clean()
