"""Dates read as each language writes them, in the city's zone; mail links follow the
address the server listens on when BASE_URL is unset."""

from __future__ import annotations

import os
from datetime import datetime
from unittest import mock

from click.testing import CliRunner

from core import i18n
from core.templating import make_environment

MOMENT = datetime(2026, 12, 3, 6, 28)  # stored naive UTC: 12:28 in Bishkek


def _in(locale: str, template: str) -> str:
    i18n.set_locale(locale, "Asia/Bishkek")
    return make_environment().from_string(template).render(when=MOMENT)


def test_english_dates_are_day_first_with_a_24_hour_clock_and_the_zone() -> None:
    text = _in("en", "{{ when|format_datetime }}")
    assert text.startswith("3 Dec 2026") and "12:28" in text and "PM" not in text
    assert "Bishkek" in text
    assert _in("en", "{{ when|format_date }}") == "3 December 2026"


def test_russian_and_kyrgyz_dates_follow_their_conventions() -> None:
    assert _in("ru", "{{ when|format_date }}").startswith("3 декабря 2026")
    assert "12:28" in _in("ru", "{{ when|format_datetime }}")
    assert "12:28" in _in("ky", "{{ when|format_datetime }}")


def test_serve_without_base_url_uses_its_own_host_and_port() -> None:
    from core import cli

    env = {k: v for k, v in os.environ.items() if k != "BASE_URL"}
    with mock.patch.dict(os.environ, env, clear=True), \
            mock.patch("uvicorn.run") as run, mock.patch.object(cli, "_settings"):
        result = CliRunner().invoke(cli.main, ["serve", "--host", "127.0.0.1",
                                               "--port", "8165"])
        assert result.exit_code == 0, result.output
        assert os.environ["BASE_URL"] == "http://127.0.0.1:8165"
    assert run.called


def test_serve_keeps_an_explicit_base_url() -> None:
    from core import cli

    with mock.patch.dict(os.environ, {"BASE_URL": "https://shaar.example.kg"}), \
            mock.patch("uvicorn.run"), mock.patch.object(cli, "_settings"):
        CliRunner().invoke(cli.main, ["serve", "--port", "8166"])
        assert os.environ["BASE_URL"] == "https://shaar.example.kg"
