"""The lessons' store: one table in a real database, through SQLAlchemy's async engine.

SQLite (a file in the data directory) by default, PostgreSQL when the settings
name one. The schema is made and kept up to date by the Alembic migrations in
gradtrace/migrations, run once when the store is first used; a lock (a file
lock for SQLite, an advisory lock for PostgreSQL) keeps two worker processes
from migrating at once. A lesson is stored under its content address and never
changed: `put` of the same lesson again finds the row that is there.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Column, Connection, DateTime, MetaData, String, Table, Text, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, QueuePool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = MetaData()

lessons = Table(
    "lessons",
    metadata,
    Column("id", String(64), primary_key=True),
    # The lesson's canonical JSON, exactly the bytes its id was computed from.
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# An arbitrary constant: the key of PostgreSQL's advisory lock around migrations.
_MIGRATION_LOCK_KEY = 0x67726164


class StoreUnavailable(Exception):
    """The database cannot be reached or migrated; the request may be retried."""


def alembic_config() -> Config:
    """Alembic's configuration, without an ini file: the scripts ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class LessonStore:
    """Lessons by id in one database; made ready (and migrated) on first use."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._engine: AsyncEngine | None = None
        self._ready = False
        self._lock: asyncio.Lock | None = None

    def _make_engine(self) -> AsyncEngine:
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # A connection per use: opening a file is cheap, and it never ties a
            # connection to one event loop. WAL lets readers in while one writes.
            engine = create_async_engine(self.url, poolclass=NullPool, connect_args={"timeout": 30})

            @event.listens_for(engine.sync_engine, "connect")
            def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

            return engine
        return create_async_engine(self.url, pool_pre_ping=True)

    async def ready(self) -> None:
        """Open the database and bring its schema to the newest migration, once."""
        if self._ready:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._ready:
                return
            try:
                if self._engine is None:
                    self._engine = self._make_engine()
                await self._migrate(self._engine)
            except (OSError, ConnectionError) as error:
                raise StoreUnavailable(str(error)) from error
            except Exception as error:  # the driver's own errors differ per database
                if type(error).__module__.startswith(("sqlalchemy", "asyncpg", "sqlite3")):
                    raise StoreUnavailable(str(error)) from error
                raise
            self._ready = True

    async def _migrate(self, engine: AsyncEngine) -> None:
        if self.is_sqlite:
            database = self.url.database or ""
            lock_path = Path(database + ".migrate-lock") if database != ":memory:" else None
            if lock_path is not None:
                with _file_lock(lock_path):
                    async with engine.begin() as connection:
                        await connection.run_sync(_upgrade)
                return
        async with engine.begin() as connection:
            if not self.is_sqlite:
                await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
            await connection.run_sync(_upgrade)

    def _engine_ready(self) -> AsyncEngine:
        assert self._engine is not None and self._ready, "call ready() first"
        return self._engine

    async def get(self, lesson_id: str) -> str | None:
        """The stored JSON of a lesson, or None."""
        await self.ready()
        async with self._engine_ready().connect() as connection:
            row = await connection.execute(select(lessons.c.body).where(lessons.c.id == lesson_id))
            return row.scalar_one_or_none()

    async def put(self, candidates: list[str], body: str) -> tuple[str, bool]:
        """Store `body` under the first candidate id that is free or already holds it.

        Returns the id and whether a row was added. The candidates are ever longer
        prefixes of one digest, so the same body always lands on the same id.
        """
        await self.ready()
        engine = self._engine_ready()
        for lesson_id in candidates:
            async with engine.connect() as connection:
                found = await connection.execute(select(lessons.c.body).where(lessons.c.id == lesson_id))
                existing = found.scalar_one_or_none()
            if existing == body:
                return lesson_id, False
            if existing is not None:
                continue  # another lesson's digest shares this prefix
            try:
                async with engine.begin() as connection:
                    await connection.execute(
                        lessons.insert().values(id=lesson_id, body=body, created_at=datetime.now(UTC))
                    )
                return lesson_id, True
            except IntegrityError:
                # Another process stored a row under this id between the read and
                # the write: the same lesson (then this is its id) or another one.
                async with engine.connect() as connection:
                    found = await connection.execute(
                        select(lessons.c.body).where(lessons.c.id == lesson_id)
                    )
                if found.scalar_one_or_none() == body:
                    return lesson_id, False
        raise StoreUnavailable("every id of this lesson's digest is taken by another lesson")

    async def ping(self) -> None:
        """Return when the database answers a query; raise when it does not (readiness)."""
        await self.ready()
        async with self._engine_ready().connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    def pool_figures(self) -> dict[str, int] | None:
        """The connection pool's state for the metrics, or None without a pool (SQLite)."""
        pool = self._engine.pool if self._engine is not None else None
        if not isinstance(pool, QueuePool):
            return None
        return {
            "size": pool.size(),
            "checked_out": pool.checkedout(),
            "overflow": max(0, pool.overflow()),
            "idle": pool.checkedin(),
        }

    async def close(self) -> None:
        """Close the database's connections (the store opens them again when next used)."""
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._ready = False
        self._lock = None
