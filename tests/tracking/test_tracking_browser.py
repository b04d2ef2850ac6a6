"""Winning projects of the demo city in Chromium: the list and a winner's page with
JavaScript on and off, following with the keyboard alone, and an admin's photo update."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, Watched

# tests/browser skips its own tests without Chromium (and CI insists on it); the same here.
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed")


def test_the_list_and_a_winner_page_show_progress(watched: Watched, live_server: str) -> None:
    page = watched.page
    assert page.goto(live_server + "/projects").status == 200
    assert page.locator("h1").count() == 1
    assert page.locator("table progress").count() == 4
    texts = page.locator(".project-progress").all_inner_texts()
    assert any(re.search(r"100\s?%", t) for t in texts)
    page.click("a[href='/projects?status=done']")
    page.wait_for_url(re.compile(r"status=done"))
    expect(page.locator("tbody tr")).to_have_count(1)
    page.locator("tbody a").first.click()
    expect(page.locator("#tracking h2")).to_have_count(1)  # waits for the navigation
    assert page.locator("#tracking .project-updates li").count() == 2
    assert watched.errors == [] and watched.foreign == []
    watched.shot("tracking_winner")


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin")
    page.fill("#field-email", email)
    page.fill("#field-password", password)
    with page.expect_navigation():
        page.click("form[action='/signin'] button[type=submit]")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_resident_follows_with_the_keyboard(browser: Any, live_server: str,
                                              javascript: bool) -> None:
    context = browser.new_context(java_script_enabled=javascript, locale="ru")
    page = context.new_page()
    sign_in(page, live_server, "resident@demo.shaar.kg", "demo-resident-pass")
    page.goto(live_server + "/projects")
    href = page.locator("tbody a").first.get_attribute("href")
    page.goto(live_server + href)
    follow = page.locator("#tracking form button[type=submit]")
    before = follow.inner_text()
    follow.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    after = page.locator("#tracking form button[type=submit]")
    assert after.inner_text() != before
    after.focus()
    with page.expect_navigation():  # and back, so the other mode starts from the same state
        page.keyboard.press("Enter")
    assert page.locator("#tracking form button[type=submit]").inner_text() == before
    context.close()


def test_an_admin_posts_a_photo_update(browser: Any, live_server: str, tmp_path: Path) -> None:
    path = tmp_path / "площадка.jpg"
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 60)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    context = browser.new_context(java_script_enabled=False, locale="ru")
    page = context.new_page()
    sign_in(page, live_server, "admin@demo.shaar.kg", "demo-admin-pass")
    page.goto(live_server + "/projects?status=in_progress")
    page.locator("tbody a[href$='/manage']").first.click()
    page.fill("#field-progress", "70")
    page.fill("#field-body", "Покрытие уложено.")
    page.set_input_files("#field-photo1", str(path))
    page.fill("#field-alt1", "Новое покрытие площадки")
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    assert "#tracking" in page.url
    image = page.locator("#tracking img[alt='Новое покрытие площадки']")
    assert image.count() == 1
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) > 0
    context.close()
