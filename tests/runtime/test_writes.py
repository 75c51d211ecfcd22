"""A sync run's writer: a failed write fails the run, and its queue bounds memory."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from support.fakeapi import FakeApi

from nango_scripts import NangoSync, sync
from nango_scripts.errors import StoreError
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import run_script
from nango_scripts.runtime._writes import MAX_QUEUED
from nango_scripts.store import (
    BatchResult,
    Connection,
    MemoryRecordStore,
    PreparedRecords,
    RecordQuery,
    RecordScope,
    SqlRecordStore,
)

pytestmark = pytest.mark.anyio


class Item(BaseModel):
    id: str


def batch(number: int) -> list[dict[str, Any]]:
    return [{"id": f"b{number}-{k}"} for k in range(10)]


class FailingStore(MemoryRecordStore):
    """Fails the ``fail_at``-th save (counting from 1) as a full disk would."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.saves = 0

    def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel],
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        self.saves += 1
        if self.saves == self.fail_at:
            raise StoreError("The records database failed: database or disk is full.")
        return super().save_records(scope, model, records, run_id=run_id)


seen: list[str] = []


@sync(models=[Item], frequency="every hour", integration="fake")
async def saves_then_fetches(nango: NangoSync) -> None:
    for number in range(1, 4):
        await nango.batch_save(batch(number), Item)
        seen.append(f"saved {number}")
        # Give the writer the time to fail on batch 2 before the next call.
        await asyncio.sleep(0.2)
    try:
        await nango.get("/ping")
    except StoreError as exc:
        seen.append(f"get raised: {exc}")
        raise
    seen.append("get returned")


async def test_a_failed_write_fails_the_scripts_next_call_and_the_run(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    seen.clear()
    fake_api.route("/ping", lambda request: (200, {}, {"ok": True}))
    store = FailingStore(fail_at=2)
    result = await run_script(
        saves_then_fetches, connection=connection, provider=provider, store=store
    )
    assert not result.success
    assert result.error is not None and result.error.type == "server_error"
    assert "disk is full" in result.error.message
    # batch 2 was handed over and failed on the writer; batch 3's save raised it.
    assert seen == ["saved 1", "saved 2"]
    assert fake_api.requests_to("/ping") == []
    assert [r["id"] for r in store.models["Item"].saved] == [f"b1-{k}" for k in range(10)]


@sync(models=[Item], frequency="every hour", integration="fake")
async def saves_and_returns(nango: NangoSync) -> None:
    await nango.batch_save(batch(1), Item)


async def test_a_failed_last_write_fails_the_run_at_its_end(
    provider: ProviderConfig, connection: Connection
) -> None:
    result = await run_script(
        saves_and_returns, connection=connection, provider=provider, store=FailingStore(1)
    )
    assert not result.success
    assert result.error is not None and result.error.type == "server_error"
    assert "disk is full" in result.error.message


class SlowStore(MemoryRecordStore):
    """A writer slower than the script: each save waits, and counts when it begins."""

    def __init__(self) -> None:
        super().__init__(keep_records=False)
        self.begun = 0
        self.lock = threading.Lock()

    def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel],
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        with self.lock:
            self.begun += 1
        time.sleep(0.01)
        return super().save_records(scope, model, records, run_id=run_id)


slow_store = SlowStore()
waiting: list[int] = []


@sync(models=[Item], frequency="every hour", integration="fake")
async def floods_the_writer(nango: NangoSync) -> None:
    for number in range(60):
        await nango.batch_save(batch(number), Item)
        waiting.append(number + 1 - slow_store.begun)


async def test_the_script_waits_when_the_writers_queue_is_full(
    provider: ProviderConfig, connection: Connection
) -> None:
    """Batches handed over but not yet taken up by the writer stay few, however fast the
    script hands them over: what a run holds in memory does not grow with its size."""
    waiting.clear()
    result = await run_script(
        floods_the_writer, connection=connection, provider=provider, store=slow_store
    )
    assert result.success, result.error
    assert result.models["Item"].saved == 600
    assert slow_store.models["Item"].saved_count == 600
    assert max(waiting) <= MAX_QUEUED + 1, waiting
    assert max(waiting) >= MAX_QUEUED, "the script never got ahead of the writer"


class GatedSqlStore(SqlRecordStore):
    """The first save waits until the script has handed over every batch: the later ones
    queue up behind it, as when the writer is slower than the API."""

    gate: threading.Event
    saves: list[int]

    def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel] | PreparedRecords,
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        if not self.saves:
            self.gate.wait(10)
        self.saves.append(len(records))
        return super().save_records(scope, model, records, run_id=run_id)


@sync(models=[Item], frequency="every hour", integration="fake")
async def saves_pages_fast(nango: NangoSync) -> None:
    for number in range(12):
        await nango.batch_save(batch(number), Item)
    await nango.batch_save([{"id": "b3-0"}, {"id": "b5-5"}], Item)  # saved again: not joined
    gated.gate.set()


gated: GatedSqlStore


async def test_batches_waiting_for_the_writer_join_into_one_save(
    tmp_path: Path, provider: ProviderConfig, connection: Connection
) -> None:
    """Pages queued behind a slow write are saved in one statement; nothing changes in
    what is stored, its change order, or the counts (a record saved twice is added, then
    saved again: never joined into the batch that first had it)."""
    global gated
    gated = GatedSqlStore.open(f"sqlite:///{tmp_path}/records.db")
    gated.gate, gated.saves = threading.Event(), []
    try:
        result = await run_script(
            saves_pages_fast, connection=connection, provider=provider, store=gated
        )
        assert result.success, result.error
        counts = result.models["Item"]
        assert (counts.saved, counts.added, counts.unchanged) == (122, 120, 2)
        assert sum(gated.saves) == 122
        assert len(gated.saves) < 13, gated.saves  # some batches were joined
        scope = RecordScope(connection.environment, "fake", connection.connection_id)
        stored = gated.list_records(RecordQuery(scope, "Item", limit=1000)).records
        assert [r["id"] for r in stored] == [f"b{n}-{k}" for n in range(12) for k in range(10)]
    finally:
        gated.close()


MEMORY_SCRIPT = """
import asyncio, gc, sys, tempfile, tracemalloc
from datetime import UTC, datetime

from pydantic import BaseModel

from nango_scripts import NangoSync, sync
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import run_script
from nango_scripts.store import Connection, SqlRecordStore


class Wide(BaseModel):
    id: str
    body: str


@sync(models=[Wide], frequency="every hour", integration="fake")
async def many_batches(nango: NangoSync) -> None:
    pages = (await nango.get_metadata())["pages"]
    for page in range(pages):
        rows = [{"id": f"{page}-{k}", "body": "x" * 400} for k in range(100)]
        await nango.batch_save([Wide.model_validate(r) for r in rows], Wide)


async def peak(pages: int, folder: str) -> int:
    store = SqlRecordStore.open(f"sqlite:///{folder}/{pages}.db")
    now = datetime.now(UTC)
    connection = Connection("fake", "c1", {}, {"pages": pages}, "dev", now, now)
    provider = ProviderConfig(name="fake", base_url="http://127.0.0.1:9")
    gc.collect()
    gc.disable()  # what only the cycle collector would free must not pile up
    tracemalloc.start()
    result = await run_script(many_batches, connection=connection, provider=provider, store=store)
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gc.enable()
    store.close()
    assert result.success and result.models["Wide"].added == pages * 100, result
    return top


with tempfile.TemporaryDirectory() as folder:
    asyncio.run(peak(10, folder))  # imports and caches, once
    print(asyncio.run(peak(60, folder)), asyncio.run(peak(300, folder)))
"""


def test_a_runs_memory_does_not_grow_with_the_records_it_saves() -> None:
    """Saved batches are let go once written: 5x the records, about the same peak of
    Python memory (in a fresh process, where nothing else allocates meanwhile)."""
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    small, large = map(int, done.stdout.split())
    assert large < small * 1.5 + 1_000_000, (small, large)
