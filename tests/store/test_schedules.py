"""ScheduleStore: a frequency changed in code reaches existing schedules; listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nango_scripts.store import ScheduleKey, ScheduleStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = ScheduleKey("prod", "github", "c1", "issues")
DAY = 86_400


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ScheduleStore]:
    with ScheduleStore.open(f"sqlite:///{tmp_path}/nango.db") as opened:
        yield opened


def after_a_run(store: ScheduleStore, frequency_seconds: int) -> None:
    """A schedule made at T0 that ran at once, its next run a frequency later."""
    store.ensure(KEY, frequency_seconds, started=True, first_run_at=T0)
    assert store.begin_run(KEY, T0 + timedelta(seconds=frequency_seconds))


def test_a_shorter_frequency_pulls_the_next_run_in(store: ScheduleStore) -> None:
    after_a_run(store, DAY)

    now = T0 + timedelta(minutes=10)
    schedule = store.ensure(KEY, 300, started=True, first_run_at=now)

    assert schedule.frequency_seconds == 300
    assert schedule.next_run_at == now + timedelta(seconds=300)
    assert store.due(now + timedelta(seconds=299)) == []
    assert [s.key for s in store.due(now + timedelta(seconds=300))] == [KEY]


def test_a_longer_frequency_keeps_the_run_already_planned(store: ScheduleStore) -> None:
    after_a_run(store, 300)

    schedule = store.ensure(KEY, DAY, started=True, first_run_at=T0 + timedelta(seconds=60))

    assert schedule.frequency_seconds == DAY
    assert schedule.next_run_at == T0 + timedelta(seconds=300)


def test_the_same_frequency_changes_nothing(store: ScheduleStore) -> None:
    after_a_run(store, DAY)

    schedule = store.ensure(KEY, DAY, started=True, first_run_at=T0 + timedelta(hours=1))

    assert schedule.next_run_at == T0 + timedelta(seconds=DAY)


def test_an_overridden_frequency_is_left_alone(store: ScheduleStore) -> None:
    after_a_run(store, DAY)
    store.set_frequency(KEY, "every 2 days", 2 * DAY)

    schedule = store.ensure(KEY, 300, started=True, first_run_at=T0 + timedelta(minutes=10))

    assert schedule.frequency_seconds == 2 * DAY
    assert schedule.next_run_at == T0 + timedelta(seconds=DAY)


def test_a_paused_schedule_stays_without_a_next_run(store: ScheduleStore) -> None:
    store.ensure(KEY, DAY, started=False, first_run_at=T0)

    schedule = store.ensure(KEY, 300, started=False, first_run_at=T0 + timedelta(minutes=10))

    assert schedule.status == "PAUSED"
    assert schedule.frequency_seconds == 300
    assert schedule.next_run_at is None


def test_listing_the_schedules_of_some_connections(store: ScheduleStore) -> None:
    for connection_id in ("c1", "c2", "c3"):
        for sync in ("issues", "pulls"):
            key = ScheduleKey("prod", "github", connection_id, sync)
            store.ensure(key, DAY, started=True, first_run_at=T0)
    store.ensure(ScheduleKey("prod", "linear", "c1", "issues"), DAY, started=True, first_run_at=T0)

    listed = store.list("prod", "github", connection_ids=["c3", "c1"])

    assert [(s.key.connection_id, s.key.sync_name) for s in listed] == [
        ("c1", "issues"),
        ("c1", "pulls"),
        ("c3", "issues"),
        ("c3", "pulls"),
    ]
    assert store.list("prod", "github", connection_ids=[]) == []
