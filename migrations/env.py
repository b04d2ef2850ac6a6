"""Alembic environment: the models' metadata, SQLite in batch mode."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from core.db import make_engine
from core.migrate import all_models
from ideas.search import is_search_object

all_models()
config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=lambda name, type_, _parents: not is_search_object(name, type_),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
