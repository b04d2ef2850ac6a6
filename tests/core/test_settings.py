import re
from pathlib import Path

import pytest

from core.settings import ROOT, Settings, SettingsError


def documented_names() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z_]+)` \|", text, flags=re.M))


def names_read_by_code() -> set[str]:
    source = (ROOT / "core" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.get)?\(\s*"([A-Z_]+)"', source)) | set(
        re.findall(r'_(?:int|bool|choice|rate)\(env, "([A-Z_]+)"', source))


def test_every_setting_is_documented() -> None:
    read = names_read_by_code()
    assert len(read) > 15
    assert read - documented_names() == set()


def test_documentation_names_no_setting_that_does_not_exist() -> None:
    assert documented_names() - names_read_by_code() == set()


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"SHAAR_ENV": "production", "SHAAR_VAR_DIR": str(tmp_path)})


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path)})
    second = Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path)})
    assert len(first.secret_key) >= 40
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_defaults_suit_bishkek(tmp_path: Path) -> None:
    settings = Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path)})
    assert settings.time_zone == "Asia/Bishkek"
    assert settings.default_locale == "ru"
    assert settings.database_url == f"sqlite:///{tmp_path / 'shaar.db'}"


@pytest.mark.parametrize("name, value", [
    ("SMTP_PORT", "twenty-five"),
    ("TIME_ZONE", "Mars/Olympus"),
    ("DEFAULT_LOCALE", "fr"),
    ("SIGNIN_RATE_LIMIT", "many"),
    ("OIDC_PROVIDERS", "{not json"),
    ("SMTP_STARTTLS", "perhaps"),
])
def test_malformed_values_are_named_in_the_error(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"SHAAR_VAR_DIR": str(tmp_path), name: value})
