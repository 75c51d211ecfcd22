"""``RecordWriter``: a run's writes in order on one thread, committed in groups, on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from nango_scripts.errors import StoreError
from nango_scripts.store import RecordQuery, RecordScope, RecordWriter, SqlRecordStore

SCOPE = RecordScope("prod", "github", "c1")


class Item(BaseModel):
    id: str
    n: int


def items(start: int, count: int) -> list[Item]:
    return [Item(id=f"i{n:05d}", n=n) for n in range(start, start + count)]


@pytest.fixture
def records(records_url: str) -> Iterator[SqlRecordStore]:
    with SqlRecordStore.open(records_url) as opened:
        yield opened


def stored_ids(store: SqlRecordStore) -> list[str]:
    """Every live record's id, in delta (change) order."""
    page = store.list_records(RecordQuery(SCOPE, "Item", limit=10_000))
    return [r["id"] for r in page.records]


def test_writes_keep_their_order_and_share_transactions(records: SqlRecordStore) -> None:
    writer = RecordWriter(records, group_size=8, group_seconds=5)
    futures = [
        writer.submit(lambda b=b: records.save_records(SCOPE, "Item", items(b * 10, 10))).future
        for b in range(40)
    ]
    writer.flush().result(timeout=30)
    writer.close()
    assert [len(f.result().added) for f in futures] == [10] * 40
    assert stored_ids(records) == [f"i{n:05d}" for n in range(400)]
    assert writer.commits <= 6, "40 writes in groups of 8 take 5 commits (6 if one was split)"


def test_a_write_resolves_once_committed_and_visible_to_readers(
    records: SqlRecordStore, records_url: str
) -> None:
    writer = RecordWriter(records, group_size=100, group_seconds=0.05)
    with SqlRecordStore.open(records_url) as other:
        write = writer.submit(lambda: records.save_records(SCOPE, "Item", items(0, 3)))
        # Nothing follows: the group's time runs out and it commits without a flush.
        write.future.result(timeout=10)
        assert len(stored_ids(other)) == 3
    writer.close()


def test_a_failing_write_rolls_its_group_back_and_fails_every_later_write(
    records: SqlRecordStore,
) -> None:
    writer = RecordWriter(records, group_size=100, group_seconds=5)
    first = writer.submit(lambda: records.save_records(SCOPE, "Item", items(0, 5)))
    writer.flush().result(timeout=10)
    assert len(first.future.result().added) == 5
    gate = threading.Event()

    def blocked() -> object:
        gate.wait(10)
        return records.save_records(SCOPE, "Item", items(5, 5))

    def broken() -> object:
        raise StoreError("The records database failed: disk I/O error.")

    same_group = writer.submit(blocked)
    failing = writer.submit(broken)
    later = writer.submit(lambda: records.save_records(SCOPE, "Item", items(10, 5)))
    gate.set()
    for write in (same_group, failing, later):
        with pytest.raises(StoreError, match="disk I/O error"):
            write.future.result(timeout=10)
    with pytest.raises(StoreError, match="disk I/O error"):
        writer.flush().result(timeout=10)
    assert isinstance(writer.failure, StoreError)
    writer.close()
    # The committed group stays; the one that failed left nothing.
    assert stored_ids(records) == [f"i{n:05d}" for n in range(5)]


def test_close_commits_what_is_queued_and_later_writes_are_refused(
    records: SqlRecordStore,
) -> None:
    writer = RecordWriter(records, group_size=100, group_seconds=60)
    writes = [
        writer.submit(lambda b=b: records.save_records(SCOPE, "Item", items(b * 3, 3)))
        for b in range(4)
    ]
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 30, "close waited for the group's time"
    assert all(w.future.done() and w.future.exception() is None for w in writes)
    assert len(stored_ids(records)) == 12
    refused = writer.submit(lambda: records.save_records(SCOPE, "Item", items(99, 1)))
    with pytest.raises(RuntimeError, match="closed"):
        refused.future.result(timeout=1)
    writer.close()  # again: nothing happens


def test_a_group_is_one_transaction_so_a_crash_keeps_records_and_checkpoint_together(
    records: SqlRecordStore, tmp_path: Path
) -> None:
    """Records and the checkpoint saved after them commit together or not at all."""
    writer = RecordWriter(records, group_size=100, group_seconds=60)
    writer.submit(lambda: records.save_records(SCOPE, "Item", items(0, 5)))
    writer.submit(lambda: records.save_checkpoint(SCOPE, "issues", {"page": 1}))
    # Not committed yet: a reader sees neither.
    time.sleep(0.1)
    assert records.get_checkpoint(SCOPE, "issues") is None
    assert stored_ids(records) == []
    writer.close()
    assert records.get_checkpoint(SCOPE, "issues") == {"page": 1}
    assert len(stored_ids(records)) == 5


def test_sequence_numbers_drawn_in_a_group_continue_after_it(records: SqlRecordStore) -> None:
    writer = RecordWriter(records, group_size=100, group_seconds=60)
    writer.submit(lambda: records.save_records(SCOPE, "Item", items(0, 5)))
    writer.close()
    records.save_records(SCOPE, "Item", items(5, 5))  # outside any group
    again = RecordWriter(records, group_size=100, group_seconds=60)
    again.submit(lambda: records.save_records(SCOPE, "Item", items(10, 5)))
    again.close()
    assert stored_ids(records) == [f"i{n:05d}" for n in range(15)]


def test_the_sqlite_writer_keeps_a_run_s_pages_and_checkpoints_rarely(tmp_path: Path) -> None:
    """An incremental run's updates fit in the writer's cache and pay no checkpoint."""
    with SqlRecordStore.open(f"sqlite:///{tmp_path}/records.db") as store:
        writer = store._w
        assert writer.one("PRAGMA cache_size")[0] == -16_384
        assert writer.one("PRAGMA wal_autocheckpoint")[0] == 16_384
