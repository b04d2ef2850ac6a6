"""Tracking pages are read in English here, so that assertions quote the English source.
The browser tests borrow the live server and Chromium of tests/browser (not its autouse
clean-up, which would wipe the screenshots taken before them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.browser.conftest import (  # noqa: F401 - fixtures for test_tracking_browser.py
    browser,
    live_database_url,
    live_server,
    live_var,
    watched,
)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"}) as c:
        yield c
