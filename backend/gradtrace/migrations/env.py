"""Alembic's environment: migrations run on the connection the store hands over.

The store runs them from its async engine (`connection.run_sync`), so this file
never makes an engine of its own.
"""

from __future__ import annotations

from alembic import context

from gradtrace.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through gradtrace.store (LessonStore.ready)")

# Batch mode lets later migrations alter SQLite tables (it copies them).
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
