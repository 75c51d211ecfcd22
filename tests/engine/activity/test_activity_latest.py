"""``ActivityStore.latest_operations`` (the Scripts view's latest run per connection and
sync, in one query) gives what ``list_operations(..., limit=1)`` gives for each pair."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from nango_scripts.store import ActivityStore, Operation, OperationState, OperationType, _activity

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CONNECTIONS = ["c1", "c2", "c3", "never"]
SYNCS = ["issues", "users", "silent"]


def _finished(
    minutes: float,
    *,
    connection: str,
    script: str | None,
    state: OperationState = "success",
    type: OperationType = "sync",
    integration: str = "github",
    environment: str = "dev",
) -> Operation:
    started = T0 + timedelta(minutes=minutes)
    return Operation(
        id=uuid.uuid4().hex,
        environment=environment,
        type=type,
        state=state,
        integration_id=integration,
        connection_id=connection,
        script=script,
        title=f"{type} {script}",
        started_at=started,
        finished_at=started + timedelta(seconds=1),
        duration_ms=None,
        error="boom" if state == "failed" else None,
        result={"models": {"Issue": {"added": int(minutes)}}} if state == "success" else None,
    )


def _fill(log: ActivityStore) -> dict[str, str]:
    """A log where the newest row of a pair is often not a sync run of it; returns the
    ids the test names."""
    ops = [
        # c1/issues: several runs, the newest failed; newer rows of other kinds around it
        _finished(1, connection="c1", script="issues"),
        _finished(5, connection="c1", script="issues", state="cancelled"),
        _finished(9, connection="c1", script="issues", state="failed"),
        _finished(20, connection="c1", script="issues", type="webhook"),
        _finished(21, connection="c1", script="issues", integration="gitlab"),
        _finished(22, connection="c1", script="issues", environment="prod"),
        _finished(23, connection="c1", script=None, type="proxy"),
        # c1/users: two runs started at the same moment: insertion order decides
        _finished(3, connection="c1", script="users", state="failed"),
        _finished(3, connection="c1", script="users"),
        # c2: one sync only
        _finished(2, connection="c2", script="users", state="failed"),
        _finished(30, connection="c2", script="issues", type="action"),
        # c3: both, an old success and webhooks after
        _finished(4, connection="c3", script="issues"),
        _finished(6, connection="c3", script="users"),
        _finished(40, connection="c3", script="users", type="webhook"),
        # "never": only other kinds of operations, and runs of a connection not asked for
        _finished(50, connection="never", script="issues", type="webhook"),
        _finished(51, connection="never", script="users", type="connection"),
        _finished(52, connection="hidden", script="issues"),
    ]
    log.add_operations(ops)
    running = log.start_operation(
        environment="dev",
        type="sync",
        integration_id="github",
        connection_id="c3",
        script="issues",
        title="sync issues",
        started_at=T0 + timedelta(minutes=60),
    )
    return {"c1/issues": ops[2].id, "c1/users": ops[8].id, "c3/issues": running}


def _one_by_one(log: ActivityStore) -> dict[tuple[str, str], Operation]:
    found = {}
    for connection in CONNECTIONS:
        for script in SYNCS:
            page = log.list_operations(
                "dev",
                integration_id="github",
                connection_id=connection,
                script=script,
                types=["sync"],
                limit=1,
            )
            if page.operations:
                found[(connection, script)] = page.operations[0]
    return found


def test_one_query_gives_each_pairs_latest_run_as_one_lookup_per_pair_does(
    store: ActivityStore,
) -> None:
    ids = _fill(store)

    latest = store.latest_operations(
        "dev", type="sync", integration_id="github", connection_ids=CONNECTIONS, scripts=SYNCS
    )

    assert latest == _one_by_one(store)
    assert sorted(latest) == [
        ("c1", "issues"),
        ("c1", "users"),
        ("c2", "users"),
        ("c3", "issues"),
        ("c3", "users"),
    ]
    assert latest[("c1", "issues")].id == ids["c1/issues"]
    assert (latest[("c1", "issues")].state, latest[("c1", "issues")].error) == ("failed", "boom")
    assert latest[("c1", "users")].id == ids["c1/users"]  # same start: the later one
    assert latest[("c3", "issues")].id == ids["c3/issues"]
    assert latest[("c3", "issues")].state == "running"
    assert latest[("c3", "users")].result == {"models": {"Issue": {"added": 6}}}
    assert latest[("c3", "users")].messages == []


def test_the_pairs_asked_for_and_no_other(store: ActivityStore) -> None:
    _fill(store)

    def latest(connections: list[str], scripts: list[str], **where: str) -> list[str]:
        found = store.latest_operations(
            where.get("environment", "dev"),
            type="sync",
            integration_id=where.get("integration", "github"),
            connection_ids=connections,
            scripts=scripts,
        )
        return sorted(f"{c}/{s}" for c, s in found)

    assert latest(["c3", "c1", "c3"], ["users", "users"]) == ["c1/users", "c3/users"]
    assert latest(["never"], SYNCS) == []
    assert latest([], SYNCS) == [] and latest(CONNECTIONS, []) == []
    assert latest(["c1"], ["issues"], integration="gitlab") == ["c1/issues"]
    assert latest(["c1"], ["issues"], environment="prod") == ["c1/issues"]
    webhooks = store.latest_operations(
        "dev", type="webhook", integration_id="github", connection_ids=["c1"], scripts=SYNCS
    )
    assert [(k, op.type) for k, op in webhooks.items()] == [(("c1", "issues"), "webhook")]


def test_many_pairs_are_looked_up_in_several_statements(
    store: ActivityStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fill(store)
    monkeypatch.setattr(_activity, "_PAIRS_PER_QUERY", 6)  # 2 connections a statement
    found = store.latest_operations(
        "dev", type="sync", integration_id="github", connection_ids=CONNECTIONS, scripts=SYNCS
    )
    assert found == _one_by_one(store)
    assert len(found) == 5
