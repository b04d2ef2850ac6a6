"""Every page of the route table is valid HTML for the W3C Nu checker (vnu), as an anonymous
visitor, the demo resident and the administrator. htmx attributes are written `data-hx-*`,
which HTML allows. Needs Java (vnu-jar comes with `make setup`); skipped without it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.settings import ROOT
from tests.browser.test_phone_width import demo_paths, sign_in

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def test_every_page_is_valid_html(browser: Any, live_server: str, live_database_url: str,
                                  tmp_path: Path) -> None:
    java = shutil.which("java")
    if java is None or not VNU.exists():
        pytest.skip("the Nu checker needs java and vnu-jar (npm ci via make setup)")
    paths = demo_paths(live_database_url)
    pages: dict[str, str] = {}
    for role in ("anonymous", "resident", "admin"):
        context = browser.new_context(locale="ru")
        page = context.new_page()
        sign_in(page, live_server, role)
        for number, path in enumerate(paths):
            response = context.request.get(live_server + path, max_redirects=0)
            if not 200 <= response.status < 300 and response.status not in (403, 404, 422):
                continue
            if "text/html" not in (response.headers.get("content-type") or ""):
                continue
            saved = tmp_path / f"{role}-{number}.html"
            saved.write_bytes(response.body())
            pages[saved.as_uri()] = f"{role} {path}"
        context.close()
    assert len(pages) > 100
    checked = subprocess.run([java, "-jar", str(VNU), "--errors-only", "--format", "json",
                              *(uri.removeprefix("file://") for uri in pages)],
                             capture_output=True, text=True, timeout=600)
    messages = json.loads(checked.stderr or checked.stdout or '{"messages": []}')["messages"]
    errors = sorted({f"{pages.get(m.get('url', ''), m.get('url'))}: {m['message']}"
                     for m in messages})
    assert errors == []
