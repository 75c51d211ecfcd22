"""A database made before the records store gains it on open, keeping its connections;
one made before the Activity log's latest-run index gains that."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from nango_scripts.settings import Settings
from nango_scripts.store import (
    MIGRATIONS,
    ActivityStore,
    ConnectionStore,
    RecordQuery,
    RecordScope,
    SqlRecordStore,
    migrate,
    open_database,
)
from nango_scripts.store._db import Database

pytestmark = pytest.mark.anyio

SCOPE = RecordScope("prod", "stripe", "c1")
CREDENTIALS = {"type": "API_KEY", "apiKey": "sk_live_1"}


class Charge(BaseModel):
    id: str
    amount: int


def _migrations(db: Database) -> list[tuple[int, str, str]]:
    rows = db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    return [(int(r[0]), r[1], r[2]) for r in rows]


def _make_old_database(url: str, settings: Settings) -> None:
    db = open_database(url, migrations=MIGRATIONS[:1])
    try:
        assert [v for v, _, _ in _migrations(db)] == [1]
        ConnectionStore(db, settings).create("stripe", "c1", CREDENTIALS, {"plan": "pro"})
    finally:
        db.close()


async def test_an_old_database_is_upgraded_and_keeps_its_connections(
    records_url: str, settings: Settings
) -> None:
    _make_old_database(records_url, settings)

    with SqlRecordStore.open(records_url) as store:
        result = store.save_records(SCOPE, "Charge", [Charge(id="ch_1", amount=5)])
        assert result.added == ["ch_1"]
        page = store.list_records(RecordQuery(SCOPE, "Charge"))
        assert [(r["id"], r["amount"]) for r in page.records] == [("ch_1", 5)]
        assert page.records[0]["_nango_metadata"]["last_action"] == "ADDED"

    db = open_database(records_url, migrations=())
    try:
        assert [(v, n) for v, n, _ in _migrations(db)] == [(m.version, m.name) for m in MIGRATIONS]
        connection = ConnectionStore(db, settings).get("stripe", "c1")
        assert connection.credentials == CREDENTIALS
        assert connection.metadata == {"plan": "pro"}
        assert db.one("SELECT COUNT(*) FROM connections")[0] == 1
    finally:
        db.close()


async def test_opening_again_applies_nothing(records_url: str, settings: Settings) -> None:
    _make_old_database(records_url, settings)
    with SqlRecordStore.open(records_url) as store:
        store.save_records(SCOPE, "Charge", [Charge(id="ch_1", amount=5)])
    db = open_database(records_url, migrations=())
    try:
        applied = _migrations(db)
    finally:
        db.close()

    with SqlRecordStore.open(records_url) as store:
        # The records (and their cursor key) are the same store's.
        page = store.list_records(RecordQuery(SCOPE, "Charge"))
        assert [r["id"] for r in page.records] == ["ch_1"]
    db = open_database(records_url, migrations=())
    try:
        assert _migrations(db) == applied  # same rows, same applied_at
        assert migrate(db) == []
        assert _migrations(db) == applied
    finally:
        db.close()


async def test_a_new_database_gets_every_step_at_once(records_url: str) -> None:
    with SqlRecordStore.open(records_url) as store:
        assert (store.save_records(SCOPE, "Charge", [Charge(id="x", amount=1)])).added == ["x"]
    db = open_database(records_url, migrations=())
    try:
        assert [v for v, _, _ in _migrations(db)] == [m.version for m in MIGRATIONS]
    finally:
        db.close()


def test_an_activity_log_made_before_the_latest_index_gains_it(records_url: str) -> None:
    before = next(i for i, m in enumerate(MIGRATIONS) if m.name == "activity latest index")
    db = open_database(records_url, migrations=MIGRATIONS[:before])
    try:
        store = ActivityStore(db)
        kept = store.start_operation(
            environment="prod",
            type="sync",
            integration_id="stripe",
            connection_id="c1",
            script="charges",
            title="sync charges",
        )
        assert "activity_operations_latest" not in _indexes(db)
    finally:
        db.close()

    with ActivityStore.open(records_url) as store:
        latest = store.latest_operations(
            "prod", type="sync", integration_id="stripe", connection_ids=["c1"], scripts=["charges"]
        )
        assert [op.id for op in latest.values()] == [kept]
    db = open_database(records_url, migrations=())
    try:
        assert "activity_operations_latest" in _indexes(db)
        assert [v for v, _, _ in _migrations(db)] == [m.version for m in MIGRATIONS]
    finally:
        db.close()


def _indexes(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        rows = db.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    return {r[0] for r in rows}
