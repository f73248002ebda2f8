"""Alembic environment: runs on the connection handed over by ``alphapeer.migrate``."""

from __future__ import annotations

from alembic import context

import core.models  # noqa: F401  (registers every table)
from alphapeer.migrate import include_name
from core.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations with `alphapeer db upgrade`.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
