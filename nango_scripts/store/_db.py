"""One small database door over SQLite (sqlite3) and PostgreSQL (psycopg 3).

The stores write SQL once, with ``?`` placeholders and the subset both engines
share (``ON CONFLICT ... DO UPDATE``, ``RETURNING``); :class:`Database` translates
placeholders for PostgreSQL and gives rows that read by name or by position on
both. SQL given here must not contain ``%`` or a literal ``?``.

A ``Database`` is one connection, used by one thread at a time (``lock``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Concatenate, Literal, ParamSpec, Protocol, TypeVar

from nango_scripts.errors import ConfigError, StoreError

Dialect = Literal["sqlite", "postgres"]


class Row(Protocol):
    def __getitem__(self, key: int | str) -> Any: ...


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class _PgRow(tuple[Any, ...]):
    """A PostgreSQL row that reads by name or position, like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_row_factory(cursor: Any) -> Any:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    row_class = type("Row", (_PgRow,), {"_names": names})

    def make(values: Sequence[Any]) -> _PgRow:
        return row_class(values)  # type: ignore[no-any-return]

    return make


def placeholders(count: int) -> str:
    """``?, ?, ...``: one parameter mark each, for ``IN (...)``."""
    return ", ".join("?" * count)


class Database:
    """A connection in autocommit mode; ``transaction()`` groups statements."""

    def __init__(self, raw: Any, dialect: Dialect, where: str) -> None:
        self.raw = raw
        self.dialect: Dialect = dialect
        self.where = where
        """For messages: a path or host/database, never a password."""
        self.lock = threading.RLock()
        self._depth = 0

    # -- statements ------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        statement = sql.strip().upper()
        # The connection store drives transactions with plain statements.
        if statement in {"BEGIN", "BEGIN IMMEDIATE"}:
            self._begin()
            return _NO_ROWS
        if statement == "COMMIT":
            self._end(commit=True)
            return _NO_ROWS
        if statement == "ROLLBACK":
            self._end(commit=False)
            return _NO_ROWS
        cursor: Cursor = self.raw.execute(self._sql(sql), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """The rows the statements changed, summed (both drivers add them up)."""
        if self.dialect == "postgres":
            with self.raw.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)
                return int(cursor.rowcount)
        return int(self.raw.executemany(sql, rows).rowcount)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    # -- transactions ----------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _begin(self) -> None:
        # SQLite: IMMEDIATE takes the write lock now, so two writers queue on
        # busy_timeout instead of failing at their first write.
        self.raw.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        self._depth = 1

    def _end(self, *, commit: bool) -> None:
        if self._depth:
            self.raw.execute("COMMIT" if commit else "ROLLBACK")
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """``with db.transaction():`` commits on success, rolls back on any error.

        Inside a transaction already open on this thread (a run's write group), it joins
        that one: the outer block commits or rolls back everything."""
        with self.lock:
            if self._depth:
                yield self
                return
            self._begin()
            try:
                yield self
            except BaseException:
                self._end(commit=False)
                raise
            self._end(commit=True)

    def close(self) -> None:
        # Under the lock: a worker thread still mid-statement (its awaiting task was
        # cancelled, the thread was not) must finish before the connection goes away.
        with self.lock:
            self.raw.close()


class _NoRows:
    rowcount = 0

    def fetchone(self) -> Any:
        return None

    def fetchall(self) -> list[Any]:
        return []


_NO_ROWS = _NoRows()


def connect_postgres(url: str) -> Database:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "NANGO_SCRIPTS_DATABASE_URL is a PostgreSQL URL, but psycopg is not installed.",
            hint="pip install 'nango-scripts[postgres]'",
        ) from None
    try:
        raw = psycopg.connect(url, autocommit=True, row_factory=_pg_row_factory)
    except psycopg.Error as exc:
        # The URL may hold a password: say where, not how.
        raise StoreError(
            f"Cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}"
        ) from None
    info = raw.info
    return Database(raw, "postgres", f"postgresql://{info.host}:{info.port}/{info.dbname}")


@functools.cache
def store_errors() -> tuple[type[Exception], ...]:
    """The driver errors a store turns into StoreError."""
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg

        errors.append(psycopg.Error)
    except ImportError:
        pass
    return tuple(errors)


class NamedStore(Protocol):
    store_name: ClassVar[str]
    """For messages: "The <store_name> database failed: ..."."""


S = TypeVar("S", bound=NamedStore)
P = ParamSpec("P")
T = TypeVar("T")


def guarded(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """The one way a store method reports a driver's error (locked past the busy
    timeout, disk full, a closed connection...): as ``StoreError`` naming the store.

    Every public method of every store wears it; ``tests/store/test_guarded.py`` checks."""

    @functools.wraps(method)
    def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if isinstance(exc, store_errors()):
                raise StoreError(f"The {self.store_name} database failed: {exc}.") from exc
            raise

    call.__store_guarded__ = True  # type: ignore[attr-defined]
    return call
