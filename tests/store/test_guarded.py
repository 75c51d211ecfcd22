"""Every store turns a driver's error into ``StoreError`` the same way (``guarded``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nango_scripts.errors import StoreError
from nango_scripts.settings import Settings
from nango_scripts.store import (
    ActionRunStore,
    ActivityStore,
    ConnectionStore,
    MetaStore,
    RecordScope,
    ScheduleKey,
    ScheduleStore,
    SqlRecordStore,
    WebhookOutbox,
)

SCOPE = RecordScope("prod", "github", "c1")
NOT_STORE_METHODS = {"open", "close"}
SQL_STORES = [
    ActionRunStore,
    ActivityStore,
    ConnectionStore,
    MetaStore,
    ScheduleStore,
    SqlRecordStore,
    WebhookOutbox,
]


@pytest.mark.parametrize("store", SQL_STORES, ids=lambda s: s.__name__)
def test_every_public_method_of_a_store_is_guarded(store: type) -> None:
    unguarded = [
        name
        for name, member in inspect.getmembers(store, inspect.isfunction)
        if not name.startswith("_")
        and name not in NOT_STORE_METHODS
        and not getattr(member, "__store_guarded__", False)
    ]
    assert unguarded == []


def test_a_driver_error_recording_a_run_result_is_a_store_error(tmp_path: Path) -> None:
    store = SqlRecordStore.open(f"sqlite:///{tmp_path}/records.db")
    run_id = store.start_run(SCOPE, "issues")
    store.close()
    with pytest.raises(StoreError, match="The records database failed"):
        store.record_run_result(run_id, {"Issue": {"added": 1}})


def _closed_calls(url: str) -> list[tuple[str, Callable[[], Any]]]:
    now = datetime.now(UTC)
    key = ScheduleKey("prod", "github", "c1", "issues")
    schedules, outbox = ScheduleStore.open(url), WebhookOutbox.open(url)
    activity, runs, meta = ActivityStore.open(url), ActionRunStore.open(url), MetaStore.open(url)
    for opened in (schedules, outbox, activity, runs, meta):
        opened.close()
    return [
        ("schedules", lambda: schedules.get(key)),
        ("schedules", lambda: schedules.due(now)),
        ("webhook outbox", lambda: outbox.next_due()),
        ("webhook outbox", lambda: outbox.prune(now)),
        ("activity", lambda: activity.prune(now)),
        ("activity", lambda: activity.get_operation("x")),
        ("action runs", lambda: runs.get("x")),
        ("action runs", lambda: runs.mark_interrupted()),
        ("store meta", lambda: meta.get("x")),
    ]


def test_a_driver_error_in_any_store_is_a_store_error_naming_it(tmp_path: Path) -> None:
    for name, call in _closed_calls(f"sqlite:///{tmp_path}/service.db"):
        with pytest.raises(StoreError, match=f"The {name} database failed"):
            call()


def test_a_driver_error_in_the_connection_store_is_a_store_error(settings: Settings) -> None:
    store = ConnectionStore.open(settings)
    store.close()
    with pytest.raises(StoreError, match="The connections database failed"):
        store.summaries()
