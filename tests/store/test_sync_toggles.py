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


def test_a_run_begins_only_while_its_sync_is_on(records_url: str) -> None:
    """``begin_run`` re-reads the toggle in the statement that starts the run: a switch
    off that lands after ``due`` was read leaves the schedule as it was."""
    with ScheduleStore.open(records_url) as store:
        key, other = _key("c1"), _key("c1", "prs")
        for k in (key, other):
            store.ensure(k, 3600, started=True, first_run_at=NOW)
            store.set_pending(k, True)
        assert {s.key for s in store.due(NOW)} == {key, other}
        store.set_enabled("prod", "github", "issues", False)  # the toggle, just after due()
        assert not store.begin_run(key, NOW + timedelta(hours=1))
        untouched = store.get(key)
        assert untouched is not None and untouched.next_run_at == NOW

        assert store.begin_run(other, NOW + timedelta(hours=1))
        begun = store.get(other)
        assert begun is not None and not begun.pending_trigger
        assert begun.next_run_at == NOW + timedelta(hours=1)

        store.set_enabled("prod", "github", "issues", True)
        assert {s.key for s in store.due(NOW)} == {key}  # due at once, as it was
        assert store.begin_run(key, None)
        assert not store.begin_run(_key("gone"), None)  # no schedule: nothing begins
