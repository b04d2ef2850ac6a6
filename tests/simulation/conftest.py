"""The browser test of the simulation page borrows the live server and Chromium of
tests/browser (not its autouse clean-up, which would wipe screenshots taken before it)."""

from __future__ import annotations

from tests.browser.conftest import (  # noqa: F401 - fixtures for test_simulation_browser.py
    browser,
    live_database_url,
    live_server,
    live_var,
)
