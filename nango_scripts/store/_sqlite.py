"""Opening the database from its URL (SQLite or PostgreSQL), and the versioned migrations.

:func:`open_database` is the one door: it dispatches on the URL's scheme, so a
PostgreSQL backend plugs in beside :func:`open_sqlite` without touching callers.

SQLite settings, and why:

- ``journal_mode=WAL``: readers (the API, ``connections list``) never block the writer
  (a sync run) and vice versa.
- ``synchronous``: ``NORMAL`` by default. In WAL mode it cannot corrupt the database; a
  crash of the process loses nothing, only an OS crash or power cut may roll back the
  last commits, and it spares an fsync per commit (records are written in many small
  batches). The connection store asks for ``FULL``: its writes are rare, and an OAuth2
  refresh whose provider rotated the refresh token must survive a power cut, or the
  connection is lost for good.
- ``busy_timeout``: concurrent writers (scheduler, CLI, server) wait instead of failing.
- ``foreign_keys=ON``: SQLite leaves them off by default; record tables will cascade
  from ``connections``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Final, Literal, NamedTuple, Self

from nango_scripts.errors import ConfigError, StoreError
from nango_scripts.store._db import Database, connect_postgres, store_errors

__all__ = [
    "MIGRATIONS",
    "Migration",
    "Synchronous",
    "TableStore",
    "migrate",
    "open_database",
    "open_sqlite",
    "schema_version",
    "sqlite_path",
]

Synchronous = Literal["NORMAL", "FULL"]
BUSY_TIMEOUT_S: Final = 10.0


class Migration(NamedTuple):
    version: int
    name: str
    sql: str
    """One or more statements; applied with the ``schema_migrations`` row in one transaction."""
    postgres: str = ""
    """The same step for PostgreSQL, where its SQL differs (empty: ``sql`` serves both)."""


# Records (SPEC 4). One row per (scope, id); a scope is (environment, integration,
# connection, model), numbered in record_scopes to keep rows and indexes small.
# seq orders every change within a scope: delta reads page by it, and a record changed
# while a client pages gets a higher seq, so it comes again later and is never skipped.
# Timestamps are ISO-8601 UTC text of fixed width, so they compare as text.
_RECORDS_COMMON = """
    CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE record_scopes (
        id {serial},
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        model TEXT NOT NULL,
        UNIQUE (environment, integration_id, connection_id, model)
    );
    CREATE TABLE records (
        scope_id BIGINT NOT NULL REFERENCES record_scopes (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        hash {blob} NOT NULL,
        data TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_modified_at TEXT NOT NULL,
        last_action TEXT NOT NULL,
        deleted_at TEXT,
        pruned_at TEXT,
        PRIMARY KEY (scope_id, id)
    );
    CREATE INDEX records_by_seq ON records (scope_id, seq);
    CREATE TABLE sync_state (
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        sync_name TEXT NOT NULL,
        last_sync_date TEXT,
        checkpoint TEXT,
        PRIMARY KEY (environment, integration_id, connection_id, sync_name)
    );
    CREATE TABLE sync_runs (
        id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        sync_name TEXT NOT NULL,
        track_deletes TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL
    );
    CREATE TABLE run_seen (
        run_id TEXT NOT NULL,
        scope_id BIGINT NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (run_id, scope_id, id)
    );
"""
RECORDS_SQLITE: Final = _RECORDS_COMMON.format(
    serial="INTEGER PRIMARY KEY AUTOINCREMENT", blob="BLOB"
)
RECORDS_POSTGRES: Final = _RECORDS_COMMON.format(serial="BIGSERIAL PRIMARY KEY", blob="BYTEA") + (
    "CREATE SEQUENCE record_seq;"
)

# The scheduler's state: one schedule per (connection, sync), and what each run did.
SCHEDULES_SQL: Final = """
    CREATE TABLE sync_schedules (
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        sync_name TEXT NOT NULL,
        status TEXT NOT NULL,
        frequency_seconds INTEGER NOT NULL,
        frequency_override TEXT,
        next_run_at TEXT,
        pending_trigger INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        PRIMARY KEY (environment, integration_id, connection_id, sync_name)
    );
    ALTER TABLE sync_runs ADD COLUMN run_type TEXT;
    ALTER TABLE sync_runs ADD COLUMN result TEXT;
    ALTER TABLE sync_runs ADD COLUMN error TEXT;
    CREATE INDEX sync_runs_by_sync
        ON sync_runs (environment, integration_id, connection_id, sync_name, started_at);
"""

# Actions run with X-Async: true, their result kept until the caller fetches it.
ACTIONS_SQL: Final = """
    CREATE TABLE action_runs (
        id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        action_name TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX action_runs_by_status ON action_runs (status);
"""

# The Activity log (store/_activity.py): operations newest first by (started_at, seq);
# messages in the order they were logged (seq).
_ACTIVITY_COMMON = """
    CREATE TABLE activity_operations (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        environment TEXT NOT NULL,
        type TEXT NOT NULL,
        state TEXT NOT NULL,
        integration_id TEXT,
        connection_id TEXT,
        script TEXT,
        title TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms DOUBLE PRECISION,
        error TEXT,
        result TEXT
    );
    CREATE INDEX activity_operations_by_time
        ON activity_operations (environment, started_at, seq);
    CREATE INDEX activity_operations_by_start ON activity_operations (started_at);
    CREATE TABLE activity_messages (
        seq {serial},
        operation_id TEXT NOT NULL REFERENCES activity_operations (id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        fields TEXT NOT NULL
    );
    CREATE INDEX activity_messages_by_operation ON activity_messages (operation_id, seq);
"""
ACTIVITY_SQLITE: Final = _ACTIVITY_COMMON.format(serial="INTEGER PRIMARY KEY AUTOINCREMENT")
ACTIVITY_POSTGRES: Final = _ACTIVITY_COMMON.format(serial="BIGSERIAL PRIMARY KEY")

# Webhooks to the user's backend (SPEC 7): an outbox row per POST, written in the
# transaction that ends the run, so a crash never loses one. A worker claims due rows
# (status 'pending', next_attempt_at <= now) by pushing next_attempt_at past a lease,
# so a process killed mid-delivery leaves the row to be sent again, never lost.
# The row id is the X-Nango-Webhook-Id header: the same on every retry.
WEBHOOKS_SQL: Final = """
    CREATE TABLE webhook_outbox (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        run_id TEXT,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        last_error TEXT
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at);
    CREATE INDEX webhook_outbox_by_run ON webhook_outbox (run_id);
    ALTER TABLE connections ADD COLUMN webhook_url_override TEXT;
"""

# The Scripts view's toggle: a sync switched off is not scheduled for any connection of
# its integration (those created later included) until switched on. No row: enabled.
SYNC_TOGGLES_SQL: Final = """
    CREATE TABLE sync_toggles (
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        sync_name TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (environment, integration_id, sync_name)
    );
"""

# The Scripts view's latest run per (connection, sync): one seek per pair
# (ActivityStore.latest_operations) instead of reading the log back in time, which for a
# sync that never ran meant the whole log. seq orders ties of started_at (on SQLite it is
# the rowid, in every index anyway; PostgreSQL needs it named).
ACTIVITY_LATEST_SQL: Final = """
    CREATE INDEX activity_operations_latest ON activity_operations
        (environment, type, integration_id, script, connection_id, started_at, seq);
"""

# Append only: never edit a released step, add a new one with the next version.
# Templates enabled per integration (the Scripts page's template toggles, the CLI and the
# API); a row means enabled. nango.toml's `templates = [...]` adds to these, never here.
TEMPLATE_TOGGLES_SQL: Final = """
    CREATE TABLE template_toggles (
        environment TEXT NOT NULL,
        integration_id TEXT NOT NULL,
        template_name TEXT NOT NULL,
        enabled_at TEXT NOT NULL,
        PRIMARY KEY (environment, integration_id, template_name)
    );
"""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "connections",
        """
        CREATE TABLE connections (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            environment TEXT NOT NULL,
            integration_id TEXT NOT NULL,
            connection_id TEXT NOT NULL,
            auth_type TEXT NOT NULL,      -- not secret: listings read it without the key
            expires_at TEXT,              -- OAuth2 token expiry, ISO UTC, not secret
            credentials TEXT NOT NULL,    -- only the encrypted token (v1:...)
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (environment, integration_id, connection_id)
        );
        CREATE INDEX connections_by_connection_id ON connections (environment, connection_id);
        """,
        postgres="""
        CREATE TABLE connections (
            id BIGSERIAL PRIMARY KEY,
            environment TEXT NOT NULL,
            integration_id TEXT NOT NULL,
            connection_id TEXT NOT NULL,
            auth_type TEXT NOT NULL,
            expires_at TEXT,
            credentials TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (environment, integration_id, connection_id)
        );
        CREATE INDEX connections_by_connection_id ON connections (environment, connection_id);
        """,
    ),
    Migration(2, "records", RECORDS_SQLITE, postgres=RECORDS_POSTGRES),
    Migration(3, "schedules", SCHEDULES_SQL),
    Migration(4, "actions", ACTIONS_SQL),
    Migration(5, "webhooks", WEBHOOKS_SQL),
    Migration(6, "activity", ACTIVITY_SQLITE, postgres=ACTIVITY_POSTGRES),
    Migration(7, "sync toggles", SYNC_TOGGLES_SQL),
    Migration(8, "activity latest index", ACTIVITY_LATEST_SQL),
    Migration(9, "template toggles", TEMPLATE_TOGGLES_SQL),
)


def open_database(
    url: str,
    *,
    synchronous: Synchronous = "NORMAL",
    migrations: Sequence[Migration] = MIGRATIONS,
) -> Database:
    """Open the database named by ``url`` with its schema up to date."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        path = sqlite_path(url)
        raw = open_sqlite(path, synchronous=synchronous, migrations=())
        db = Database(raw, "sqlite", path)
    elif scheme in {"postgres", "postgresql"}:
        db = connect_postgres(url)
    else:
        raise ConfigError(
            f"Unsupported database URL scheme {scheme + '://' if scheme else '(none)'}"
            " in NANGO_SCRIPTS_DATABASE_URL.",
            hint="Use sqlite:///absolute/path/to/nango.db (the default) or postgresql://...",
        )
    try:
        if migrations:  # () opens without touching the schema (a second, reading connection)
            migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    return db


def sqlite_path(url: str) -> str:
    """``sqlite:///<path>`` -> ``<path>``, read as :attr:`Settings.sqlite_path` reads it.

    ``sqlite:////abs/nango.db`` is absolute (what ``load_settings`` produces);
    ``sqlite:///rel.db`` is relative to the current directory; ``sqlite:///:memory:``
    is an in-memory database.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(
            f"Malformed SQLite URL {url!r}.",
            hint="Write it as sqlite:////absolute/path/to/nango.db",
        )
    return url[len(prefix) :]


def open_sqlite(
    path: str | Path,
    *,
    synchronous: Synchronous = "NORMAL",
    migrations: Sequence[Migration] = MIGRATIONS,
) -> sqlite3.Connection:
    """Open (creating it and its folder if needed) a tuned SQLite database and migrate it.

    The connection is in autocommit mode (``isolation_level=None``): callers open
    transactions explicitly with ``BEGIN``. It may be used from several threads, one at
    a time.
    """
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
    where = str(path)
    if where != ":memory:":
        try:
            # Owner-only, like the key file: the database holds (encrypted) credentials
            # and customer records. SQLite gives -wal and -shm the database's mode.
            Path(where).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not os.path.exists(where):
                os.close(os.open(where, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"Cannot create the database {where}: {exc.strerror or exc}.") from exc
    try:
        db = sqlite3.connect(
            where, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the SQLite database {where}: {exc}.") from exc
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA journal_mode = WAL").fetchone()
        db.execute(f"PRAGMA synchronous = {synchronous}")
        db.execute("PRAGMA foreign_keys = ON")
        db.row_factory = sqlite3.Row
        if migrations:
            migrate(Database(db, "sqlite", where), migrations)
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(
            f"The database {where} cannot be used: {exc}.",
            hint="Is it a SQLite database written by nango-scripts? Point"
            " NANGO_SCRIPTS_DATABASE_URL elsewhere or move the file away.",
        ) from exc
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: Database) -> int:
    """The highest migration applied, 0 for a new database."""
    row = db.one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    return int(row[0])


def migrate(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations not applied yet, in order; return their versions.

    Each step and its ``schema_migrations`` row commit together (DDL is transactional
    on both engines), so a failing step leaves the database as it was. The write lock
    (``BEGIN IMMEDIATE``; an advisory lock on PostgreSQL) is taken first, so two
    processes starting at once apply each step once.
    """
    versions = [m.version for m in migrations]
    if any(b <= a for a, b in pairwise(versions)) or (versions and versions[0] < 1):
        raise ValueError(f"migration versions must be positive and increasing: {versions}")
    errors = store_errors()
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        current = schema_version(db)
    except errors as exc:
        raise StoreError(f"The database {db.where} cannot be used: {exc}.") from exc
    latest = versions[-1] if versions else 0
    if current > latest:
        raise StoreError(
            f"The database is at schema version {current}, newer than this nango-scripts"
            f" knows ({latest}).",
            hint="Upgrade nango-scripts, or use another database.",
        )
    applied: list[int] = []
    for step in migrations:
        if step.version <= current:
            continue
        try:
            with db.transaction():
                if db.dialect == "postgres":
                    db.execute("SELECT pg_advisory_xact_lock(7312015)")
                done = db.one("SELECT 1 FROM schema_migrations WHERE version = ?", (step.version,))
                if done is None:
                    sql = step.postgres if db.dialect == "postgres" and step.postgres else step.sql
                    for statement in split_statements(sql):
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (step.version, step.name, datetime.now(UTC).isoformat()),
                    )
                    applied.append(step.version)
        except errors as exc:
            raise StoreError(
                f"Database migration {step.version} ({step.name}) failed: {exc}."
            ) from exc
    return applied


def split_statements(script: str) -> Iterator[str]:
    """Split SQL into statements; semicolons inside strings or triggers stay put.

    (``executescript`` would commit the migration's transaction first, so statements
    are run one by one.)
    """
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                yield pending.strip()
            pending = ""
    if _has_code(pending):
        yield pending.strip()


def _has_code(sql: str) -> bool:
    lines = (line.split("--", 1)[0] for line in sql.splitlines())
    return bool("".join(lines).strip(" \t\r\n;"))


class TableStore:
    """A store of a few tables on a connection of its own: :meth:`open` it (migrating
    the database), use it as a context manager or :meth:`close` it when done."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @classmethod
    def open(cls, database_url: str) -> Self:
        return cls(open_database(database_url))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
