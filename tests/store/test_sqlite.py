from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nango_scripts.errors import ConfigError, StoreError
from nango_scripts.store import MIGRATIONS, Migration, migrate, open_database
from nango_scripts.store._db import Database
from nango_scripts.store._sqlite import split_statements, sqlite_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "deep" / "state" / "nango.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    connection = open_database(f"sqlite:///{db_path}")
    yield connection
    connection.close()


def _pragma(db: Database, name: str) -> object:
    return db.execute(f"PRAGMA {name}").fetchone()[0]


def test_opens_a_tuned_database_creating_its_folder(db: Database, db_path: Path) -> None:
    assert db_path.is_file()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "synchronous") == 1  # NORMAL
    assert _pragma(db, "foreign_keys") == 1
    assert _pragma(db, "busy_timeout") == 10_000
    assert db.raw.isolation_level is None  # transactions are explicit


def test_full_synchronous_on_request(db_path: Path) -> None:
    db = open_database(f"sqlite:///{db_path}", synchronous="FULL")
    try:
        assert _pragma(db, "synchronous") == 2
    finally:
        db.close()


def test_migrations_are_recorded_and_applied_once(db: Database, db_path: Path) -> None:
    rows = db.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()
    assert [(v, n) for v, n, _ in rows] == [(m.version, m.name) for m in MIGRATIONS]
    assert rows[0][2].endswith("+00:00")
    assert migrate(db) == []
    again = open_database(f"sqlite:///{db_path}")
    try:
        assert again.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(
            MIGRATIONS
        )
    finally:
        again.close()


def test_adding_a_migration_is_one_more_step(db: Database) -> None:
    later = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "extra", "CREATE TABLE extra (x)"))
    assert migrate(db, later) == [len(MIGRATIONS) + 1]
    assert db.execute("SELECT COUNT(*) FROM extra").fetchone()[0] == 0


def test_a_failing_migration_leaves_nothing_behind(db: Database) -> None:
    broken = Migration(
        len(MIGRATIONS) + 1, "broken", "CREATE TABLE half (x); INSERT INTO missing VALUES (1);"
    )
    with pytest.raises(StoreError, match=r"migration \d+ \(broken\) failed: no such table"):
        migrate(db, (*MIGRATIONS, broken))
    assert not db.in_transaction
    tables = {row[0] for row in db.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables
    assert db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_a_database_from_a_newer_version_is_refused(db: Database) -> None:
    db.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    with pytest.raises(StoreError, match="schema version 999, newer than"):
        migrate(db)


def test_migration_versions_must_increase(db: Database) -> None:
    with pytest.raises(ValueError, match="increasing"):
        migrate(db, [Migration(2, "b", ""), Migration(1, "a", "")])


def test_statements_split_only_between_statements() -> None:
    script = """
        CREATE TABLE t (x TEXT DEFAULT 'a;b');  -- a comment; with a semicolon
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 'c;d'; END;
        CREATE INDEX i ON t (x)
    """
    statements = list(split_statements(script))
    assert len(statements) == 3
    assert "CREATE TRIGGER" in statements[1] and statements[1].endswith("END;")
    db = sqlite3.connect(":memory:")
    try:
        for statement in statements:
            db.execute(statement)
        db.execute("INSERT INTO t DEFAULT VALUES")
        assert db.execute("SELECT x FROM t").fetchone() == ("c;d",)
    finally:
        db.close()


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "nango.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=f"The database {path} cannot be used"):
        open_database(f"sqlite:///{path}")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////abs/nango.db", "/abs/nango.db"),
        ("sqlite:///rel/nango.db", "rel/nango.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    assert sqlite_path(url) == path


def test_in_memory_database() -> None:
    db = open_database("sqlite:///:memory:")
    try:
        assert db.execute("SELECT COUNT(*) FROM connections").fetchone()[0] == 0
    finally:
        db.close()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_an_unreachable_postgres_is_a_store_error_without_the_password(
    scheme: str, unused_port: int
) -> None:
    with pytest.raises(StoreError) as caught:
        open_database(f"{scheme}://user:hunter2@127.0.0.1:{unused_port}/nango?connect_timeout=2")
    text = str(caught.value)
    assert "Cannot connect to PostgreSQL" in text
    assert "hunter2" not in text


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("url", ["mysql://u:hunter2@h/d", "sqlite:/x.db", "nonsense"])
def test_other_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_database(url)
    assert "hunter2" not in str(caught.value)
