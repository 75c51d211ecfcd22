"""The per-sync toggle in the schedule store, on both backends: a sync switched off is
never due, for any connection; its waiting triggers are dropped; switched on, it is due
again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nango_scripts.store import ScheduleKey, ScheduleStore

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def _key(connection: str, sync: str = "issues", integration: str = "github") -> ScheduleKey:
    return ScheduleKey("prod", integration, connection, sync)


def test_a_sync_switched_off_is_never_due(records_url: str) -> None:
    with ScheduleStore.open(records_url) as store:
        keys = [_key("c1"), _key("c2"), _key("c1", "prs"), _key("c1", integration="gitlab")]
        for key in keys:
            store.ensure(key, 3600, started=True, first_run_at=NOW)
        store.set_pending(_key("c2"), True)
        assert store.is_enabled("prod", "github", "issues")
        assert {s.key for s in store.due(NOW)} == set(keys)

        store.set_enabled("prod", "github", "issues", False)
        assert not store.is_enabled("prod", "github", "issues")
        assert store.disabled_syncs("prod") == {("github", "issues")}
        assert store.disabled_syncs("staging") == set()
        # same sync name elsewhere and other syncs of the integration are untouched
        assert {s.key for s in store.due(NOW)} == {_key("c1", "prs"), keys[3]}
        late = _key("c3")  # a connection created while the sync is off
        store.ensure(late, 3600, started=True, first_run_at=NOW)
        store.set_pending(late, True)  # a trigger that slipped in: it waits, it does not run
        assert late not in {s.key for s in store.due(NOW + timedelta(days=3))}
        dropped = store.get(_key("c2"))
        assert dropped is not None and not dropped.pending_trigger

        store.set_enabled("prod", "github", "issues", False)  # again: idempotent
        store.set_enabled("prod", "github", "issues", True)
        assert store.is_enabled("prod", "github", "issues")
        assert store.disabled_syncs("prod") == set()
        assert {s.key for s in store.due(NOW)} == {*keys, late}
