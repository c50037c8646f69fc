"""Alembic environment for the register. Run through `register.db.upgrade` (or
`sro register upgrade`); there is no alembic.ini: the URL comes from DATABASE_URL like the rest.

A new revision: `python -m register.revision "what changed"` autogenerates one from the models.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from register import models

#: Any constant: the PostgreSQL advisory lock that makes concurrent upgrades take turns.
UPGRADE_LOCK = 7_301_947

config = context.config
target_metadata = models.SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})"))
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        _run(connection)
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
