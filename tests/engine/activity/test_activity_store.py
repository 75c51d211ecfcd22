"""``ActivityStore`` on real databases: operations, batched messages, filters, newest-first
paging with a stable cursor, retention; and the recorder's batching and failure rules."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nango_scripts.engine import ActivityRecorder
from nango_scripts.errors import RecordQueryError
from nango_scripts.store import ActivityMessage, ActivityStore, open_database

POSTGRES_URL_ENV = "NANGO_SCRIPTS_TEST_POSTGRES_URL"
NOW = datetime.now(UTC)


def start(store: ActivityStore, **overrides: object) -> str:
    fields: dict[str, object] = {
        "environment": "dev",
        "type": "sync",
        "integration_id": "github",
        "connection_id": "c1",
        "script": "issues",
        "title": "sync issues",
    }
    return store.start_operation(**(fields | overrides))  # type: ignore[arg-type]


def message(text: str, level: str = "info", **fields: object) -> ActivityMessage:
    return ActivityMessage(datetime.now(UTC), level, text, dict(fields))


def test_an_operation_from_start_to_finish_with_batched_messages(store: ActivityStore) -> None:
    op = start(store)
    running = store.get_operation(op)
    assert running is not None
    assert (running.state, running.finished_at, running.duration_ms) == ("running", None, None)

    store.add_messages(op, [message("one", page=1), message("two", "debug")])
    store.add_messages(op, [message("three", "error", nested={"a": [1, 2]})])
    store.add_messages(op, [])
    store.finish_operation(op, state="failed", error="boom", result={"models": {"Issue": 1}})
    store.finish_operation(op, state="success")  # the first end counts

    done = store.get_operation(op)
    assert done is not None
    assert (done.state, done.error, done.result) == ("failed", "boom", {"models": {"Issue": 1}})
    assert done.finished_at is not None and done.duration_ms is not None
    assert done.duration_ms >= 0
    assert [(m.message, m.level) for m in done.messages] == [
        ("one", "info"),
        ("two", "debug"),
        ("three", "error"),
    ]
    assert done.messages[0].fields == {"page": 1}
    assert done.messages[2].fields == {"nested": {"a": [1, 2]}}
    assert store.get_operation("nope") is None


def test_text_no_database_keeps_as_it_is_is_kept_escaped_not_lost(store: ActivityStore) -> None:
    """A script logs an API's bytes: a NUL (PostgreSQL refuses it in text) or half of a
    surrogate pair (not UTF-8) must not cost the line, nor leave the operation running."""
    op = start(store, title="proxy GET /a\x00b")
    store.add_messages(op, [message("got a\x00b and \ud800", raw="\udc00\x00")])
    store.finish_operation(op, state="failed", error="failed: \ud83d\x00")
    done = store.get_operation(op)
    assert done is not None
    assert (done.state, done.title, done.error) == (
        "failed",
        "proxy GET /a\\x00b",
        "failed: \\ud83d\\x00",
    )
    assert [(m.message, m.fields) for m in done.messages] == [
        ("got a\\x00b and \\ud800", {"raw": "\\udc00\x00"})
    ]


def test_finished_operations_are_written_at_once(store: ActivityStore) -> None:
    recorder = ActivityRecorder(store)
    began = NOW - timedelta(milliseconds=250)
    delivery = recorder.webhook_delivery(
        environment="dev",
        url="https://hooks.example.com/h?token=tok-123",
        integration_id="github",
        connection_id="c1",
        script="issues",
        model="Issue",
        attempt=3,
        status=500,
        duration_ms=240.5,
        error="HTTP 500",
        retry_in_s=20.0,
        delivery_id="d1",
        started_at=began,
    )
    change = recorder.finished(
        environment="dev",
        type="connection",
        integration_id="github",
        connection_id="c1",
        script=None,
        title="connection created",
        messages=[("info", "key secret-key-9 set", {"Authorization": "Bearer x"})],
        credentials={"apiKey": "secret-key-9"},
    )
    assert recorder.write([delivery, change])
    stored = store.get_operation(delivery.id)
    assert stored is not None
    assert (stored.type, stored.state, stored.error) == ("webhook", "failed", "HTTP 500")
    assert stored.title == "sync webhook (Issue) to https://hooks.example.com/h?***"
    assert stored.started_at == began and stored.finished_at is not None
    assert stored.duration_ms is not None and stored.duration_ms >= 250
    assert stored.result == {"status": 500, "attempt": 3, "model": "Issue", "event": "sync"}
    assert [m.message for m in stored.messages] == [
        "POST https://hooks.example.com/h?*** 500 (240.5 ms)",
        "HTTP 500",
        "retrying in 20.00s (attempt 4)",
    ]
    assert stored.messages[2].fields == {"wait_s": 20.0, "attempt": 4}
    other = store.get_operation(change.id)
    assert other is not None and other.state == "success"
    assert "secret-key-9" not in repr(other)
    assert other.messages[0].fields == {"Authorization": "***"}
    listed = store.list_operations("dev").operations
    assert {o.id for o in listed} == {delivery.id, change.id}
    with pytest.raises(ValueError, match="finished operations"):
        store.add_operations([dataclasses.replace(change, id="x", state="running")])
    assert store.get_operation("x") is None


def test_waiting_then_running(store: ActivityStore) -> None:
    op = start(store, type="action", state="waiting")
    assert store.list_operations("dev", states=["waiting"]).operations[0].id == op
    store.set_running(op)
    assert store.list_operations("dev", states=["running"]).operations[0].id == op
    with pytest.raises(ValueError, match="starts waiting or running"):
        start(store, state="success")
    with pytest.raises(ValueError, match="unknown operation type"):
        start(store, type="bogus")


def test_filters(store: ActivityStore) -> None:
    a = start(store, started_at=NOW - timedelta(hours=3))
    b = start(store, type="action", script="create_issue", started_at=NOW - timedelta(hours=2))
    c = start(
        store, connection_id="c2", integration_id="slack", started_at=NOW - timedelta(hours=1)
    )
    d = start(store, environment="prod")
    e = start(store, type="proxy", script=None, integration_id=None, connection_id=None)
    store.finish_operation(a, state="success")
    store.finish_operation(b, state="failed", error="x")

    def ids(**query: object) -> list[str]:
        return [o.id for o in store.list_operations("dev", **query).operations]  # type: ignore[arg-type]

    assert ids() == [e, c, b, a]
    assert [o.id for o in store.list_operations("prod").operations] == [d]
    assert ids(states=["success", "failed"]) == [b, a]
    assert ids(states=["running"]) == [e, c]
    assert ids(states=[]) == []
    assert ids(types=["action", "proxy"]) == [e, b]
    assert ids(integration_id="slack") == [c]
    assert ids(connection_id="c1") == [b, a]
    assert ids(script="create_issue") == [b]
    assert ids(since=NOW - timedelta(hours=2)) == [e, c, b]  # inclusive
    assert ids(until=NOW - timedelta(hours=2)) == [a]  # exclusive
    assert ids(since=NOW - timedelta(hours=3), until=NOW - timedelta(minutes=30)) == [c, b, a]
    listed = store.list_operations("dev", script="create_issue").operations[0]
    assert (listed.type, listed.state, listed.error, listed.messages) == (
        "action",
        "failed",
        "x",
        [],
    )


def test_pages_are_newest_first_and_a_cursor_is_stable(store: ActivityStore) -> None:
    same = NOW - timedelta(minutes=5)  # ties on the start time are ordered by insertion
    made = [
        start(store, started_at=same if i % 2 else NOW - timedelta(minutes=10 - i))
        for i in range(7)
    ]
    expected = [o.id for o in store.list_operations("dev", limit=100).operations]
    assert sorted(expected) == sorted(made)

    first = store.list_operations("dev", limit=3)
    assert [o.id for o in first.operations] == expected[:3]
    assert first.next_cursor is not None
    newer = start(store)  # started between two pages: it does not shift the next ones
    second = store.list_operations("dev", limit=3, cursor=first.next_cursor)
    assert [o.id for o in second.operations] == expected[3:6]
    again = store.list_operations("dev", limit=3, cursor=first.next_cursor)
    assert [o.id for o in again.operations] == expected[3:6]
    assert second.next_cursor is not None
    last = store.list_operations("dev", limit=3, cursor=second.next_cursor)
    assert [o.id for o in last.operations] == expected[6:]
    assert last.next_cursor is None
    assert store.list_operations("dev", limit=1).operations[0].id == newer
    starts = [o.started_at for o in store.list_operations("dev", limit=100).operations]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize("cursor", ["garbage", "MjAyNHwx", "", "bm90LWEtZGF0ZXw1"])
def test_a_bad_cursor_is_refused(store: ActivityStore, cursor: str) -> None:
    start(store)
    if not cursor:  # empty means "first page"
        assert len(store.list_operations("dev", cursor=cursor).operations) == 1
        return
    with pytest.raises(RecordQueryError, match="cursor"):
        store.list_operations("dev", cursor=cursor)


def test_prune_removes_old_operations_and_their_messages(store: ActivityStore) -> None:
    old = start(store, started_at=NOW - timedelta(days=40))
    store.add_messages(old, [message("old line")] * 3)
    store.finish_operation(old, state="success")
    kept = start(store, started_at=NOW - timedelta(days=10))
    store.add_messages(kept, [message("recent line")])

    assert store.prune(NOW - timedelta(days=30)) == 1
    assert store.get_operation(old) is None
    survivor = store.get_operation(kept)
    assert survivor is not None and [m.message for m in survivor.messages] == ["recent line"]
    assert store.prune(NOW - timedelta(days=30)) == 0


def test_open_operations_of_a_previous_process_are_marked_failed(store: ActivityStore) -> None:
    op = start(store)
    done = start(store)
    store.finish_operation(done, state="success")
    other = start(store, environment="prod")
    assert store.mark_interrupted("dev") == 1
    marked = store.get_operation(op)
    assert marked is not None and marked.state == "failed"
    assert marked.error == "the service stopped before the operation finished"
    assert store.list_operations("prod").operations[0].id == other


class CountingStore(ActivityStore):
    def __init__(self, url: str, *, fail: bool = False) -> None:
        super().__init__(open_database(url))
        self.batches: list[int] = []
        self.fail = fail

    def add_messages(self, operation_id: str, messages: Sequence[ActivityMessage]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.batches.append(len(messages))
        super().add_messages(operation_id, messages)


@pytest.mark.anyio
async def test_the_recorder_writes_messages_in_batches(tmp_path: Path) -> None:
    with CountingStore(f"sqlite:///{tmp_path}/a.db") as store:
        recorder = ActivityRecorder(store, batch_size=100, flush_interval_s=60)
        operation = await recorder.operation(
            environment="dev",
            type="sync",
            integration_id="github",
            connection_id="c1",
            script="issues",
            title="sync issues",
        )
        for i in range(450):
            operation.log("info", f"line {i}", {"i": i})
        await operation.finish("success", result={"done": True})

        assert sum(store.batches) == 450
        assert len(store.batches) <= 5  # not one transaction per line
        assert operation.id is not None
        stored = store.get_operation(operation.id)
        assert stored is not None and stored.state == "success"
        assert [m.message for m in stored.messages] == [f"line {i}" for i in range(450)]


@pytest.mark.anyio
async def test_a_long_operation_is_capped_and_says_so(tmp_path: Path) -> None:
    with ActivityStore.open(f"sqlite:///{tmp_path}/a.db") as store:
        recorder = ActivityRecorder(store, max_messages=10, flush_interval_s=0.01)
        operation = await recorder.operation(
            environment="dev",
            type="action",
            integration_id=None,
            connection_id=None,
            script=None,
            title="chatty",
        )
        for i in range(25):
            operation.log("debug", f"line {i}")
        await operation.finish("success")
        assert operation.id is not None
        stored = store.get_operation(operation.id)
        assert stored is not None
        assert len(stored.messages) == 11
        assert stored.messages[-1].message.startswith("15 more message(s) were not kept")


@pytest.mark.anyio
async def test_a_failing_activity_write_never_fails_what_it_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with CountingStore(f"sqlite:///{tmp_path}/a.db", fail=True) as store:
        recorder = ActivityRecorder(store)
        operation = await recorder.operation(
            environment="dev",
            type="sync",
            integration_id="github",
            connection_id="c1",
            script="issues",
            title="sync issues",
        )
        operation.log("info", "lost")
        with caplog.at_level(logging.WARNING, logger="nango_scripts.activity"):
            await operation.finish("success")
        assert "1 message(s) of operation" in caplog.text and "disk full" in caplog.text
        assert operation.id is not None
        stored = store.get_operation(operation.id)
        assert stored is not None and stored.state == "success" and stored.messages == []

    closed = ActivityRecorder(store)  # its database is closed now: nothing works, nothing raises
    with caplog.at_level(logging.WARNING, logger="nango_scripts.activity"):
        nothing = await closed.operation(
            environment="dev",
            type="proxy",
            integration_id=None,
            connection_id=None,
            script=None,
            title="proxy GET /x",
        )
        nothing.log("info", "ignored")
        await nothing.finish("failed", error="x")
    assert nothing.id is None and not nothing.enabled
    assert "not recorded" in caplog.text


@pytest.mark.anyio
async def test_retention_prunes_on_start(tmp_path: Path) -> None:
    with ActivityStore.open(f"sqlite:///{tmp_path}/a.db") as store:
        old = start(store, started_at=NOW - timedelta(days=8))
        recent = start(store, started_at=NOW - timedelta(days=6))
        recorder = ActivityRecorder(store)
        assert await recorder.prune(0) == 0  # 0 keeps everything
        recorder.start_retention(7, every_s=3600)
        try:
            for _ in range(200):
                if store.get_operation(old) is None:
                    break
                await _tick()
        finally:
            await recorder.stop()
        assert store.get_operation(old) is None
        assert store.get_operation(recent) is not None


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.01)
