"""Alembic, driven from code so `shaar migrate` needs no alembic.ini next to it."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.db import normalise_url
from core.settings import ROOT


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def all_models() -> None:
    """Import every table so SQLModel.metadata is complete."""
    import contests.models  # noqa: F401
    import core.models  # noqa: F401
    import ideas.models  # noqa: F401
    import jury.models  # noqa: F401
    import moderation.models  # noqa: F401
    import results.models  # noqa: F401
    import surveys.models  # noqa: F401
    import tracking.models  # noqa: F401
    import voting.models  # noqa: F401
