"""A resident proposes an idea with a photo in a real browser, with JavaScript on and off."""

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS

PEOPLE = {"js": ("admin@demo.shaar.kg", "demo-admin-pass"),
          "nojs": ("jury@demo.shaar.kg", "demo-jury-pass")}


def photo(tmp_path: Path) -> Path:
    path = tmp_path / "двор.jpg"
    image = Image.new("RGB", (800, 600), (40, 120, 60))
    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_a_resident_submits_an_idea_with_a_photo(browser: Any, live_server: str, tmp_path: Path,
                                                 mode: str) -> None:
    context = browser.new_context(java_script_enabled=mode == "js", locale="ru",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    email, password = PEOPLE[mode]
    page.goto(live_server + "/signin")
    page.fill("#field-email", email)
    page.fill("#field-password", password)
    page.click("form[action='/signin'] button[type=submit]")
    page.goto(live_server + "/rounds/1")
    page.click("a[href='/rounds/1/ideas/new']")
    page.fill("#field-title", f"Фонари во дворе ({mode})")
    page.fill("#field-summary", "Поставить четыре фонаря у подъездов дома 12.")
    page.fill("#field-description", "Во дворе темно.\n\nПодробнее: https://bishkek.kg")
    page.select_option("#field-category", index=1)
    page.select_option("#field-district", index=1)
    page.fill("#field-estimated_cost", "320 000")
    page.set_input_files("#field-photos", str(photo(tmp_path)))
    page.click("button[name=action][value=submit]")
    page.wait_for_url("**/ideas/2027-*")
    assert page.locator(".flash").count() == 1
    assert page.locator("h1").inner_text() == f"Фонари во дворе ({mode})"
    image = page.locator(".gallery img")
    assert image.count() == 1
    if mode == "js":
        assert image.evaluate("img => img.naturalWidth") > 0  # the thumbnail really loads
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"idea-submitted-{mode}-ru.png"), full_page=True)
    assert errors == []
    context.close()


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_screenshots_of_the_list_and_an_idea(browser: Any, live_server: str, lang: str) -> None:
    context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang},
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/ideas")
    assert page.locator("html").get_attribute("lang") == lang
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ideas-list-{lang}.png"), full_page=True)
    page.click(".card h2 a >> nth=0")
    page.wait_for_selector("article h1")
    page.screenshot(path=str(ARTIFACTS / f"idea-page-{lang}.png"), full_page=True)
    context.close()
