"""The outbox table on SQLite and PostgreSQL: claims, leases, retries, and rows written
in the very transaction that ends a run."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from nango_scripts.providers import ProviderConfig
from nango_scripts.settings import Settings
from nango_scripts.store import (
    ConnectionStore,
    OutboxEntry,
    RecordScope,
    SqlRecordStore,
    WebhookOutbox,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SCOPE = {"environment": "dev", "integration_id": "github", "connection_id": "acme"}


@pytest.fixture
def outbox(database_url: str) -> Iterator[WebhookOutbox]:
    with WebhookOutbox.open(database_url) as opened:
        yield opened


def entries(count: int, url: str = "http://a.test/h") -> list[OutboxEntry]:
    return [OutboxEntry(url=url, body=f'{{"n":{i}}}') for i in range(count)]


def test_claim_leases_rows_and_counts_the_attempt(outbox: WebhookOutbox) -> None:
    ids = outbox.add(entries(3), **SCOPE, now=T0)
    first = outbox.claim(T0, 2, lease_s=30)
    assert [i.id for i in first] == ids[:2]
    assert [i.attempts for i in first] == [1, 1]
    assert [i.body for i in first] == ['{"n":0}', '{"n":1}']
    assert [i.id for i in outbox.claim(T0, 10, lease_s=30)] == [ids[2]]
    assert outbox.claim(T0 + timedelta(seconds=29), 10, lease_s=30) == []
    # a claimer that died: the rows come back when the lease ends, attempt counted
    again = outbox.claim(T0 + timedelta(seconds=31), 10, lease_s=30)
    assert sorted(i.id for i in again) == sorted(ids)
    assert {i.attempts for i in again} == {2}


def test_retry_delivered_failed_release(outbox: WebhookOutbox) -> None:
    a, b, c, d = outbox.add(entries(4), **SCOPE, now=T0)
    claimed = {i.id: i for i in outbox.claim(T0, 10, lease_s=60)}
    outbox.delivered(a, T0)
    assert outbox.retry_at(claimed[b], T0 + timedelta(seconds=5), "HTTP 500")
    assert outbox.failed(claimed[c], T0, "HTTP 503")
    outbox.release(claimed[d], T0)
    assert outbox.counts() == {"pending": 2, "delivered": 1, "failed": 1}
    # d is due now with its attempt given back; b waits for its retry time
    [released] = outbox.claim(T0, 10, lease_s=60)
    assert (released.id, released.attempts) == (d, 1)
    assert outbox.next_due() == T0 + timedelta(seconds=5)
    [retried] = outbox.claim(T0 + timedelta(seconds=5), 10, lease_s=60)
    assert (retried.id, retried.attempts, retried.last_error) == (b, 2, "HTTP 500")
    [failed] = outbox.items(status="failed")
    assert (failed.id, failed.last_error, failed.finished_at) == (c, "HTTP 503", T0)


def test_a_claim_that_ran_out_cannot_overwrite_the_next_one(outbox: WebhookOutbox) -> None:
    outbox.add(entries(1), **SCOPE, now=T0)
    [stale] = outbox.claim(T0, 1, lease_s=10)
    [fresh] = outbox.claim(T0 + timedelta(seconds=11), 1, lease_s=10)
    assert not outbox.retry_at(stale, T0 + timedelta(hours=1), "late")
    assert not outbox.failed(stale, T0, "late")
    assert outbox.retry_at(fresh, T0 + timedelta(seconds=20), "HTTP 500")
    assert outbox.next_due() == T0 + timedelta(seconds=20)


def test_concurrent_claimers_never_take_the_same_row(database_url: str) -> None:
    with WebhookOutbox.open(database_url) as setup:
        ids = setup.add(entries(200), **SCOPE, now=T0)
    taken: list[list[str]] = [[], [], [], []]

    def claimer(mine: list[str]) -> None:
        with WebhookOutbox.open(database_url) as outbox:
            while batch := outbox.claim(T0, 7, lease_s=600):
                mine.extend(item.id for item in batch)

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [i for mine in taken for i in mine]
    assert sorted(every) == sorted(ids)  # each row once: no loss, no double claim


def test_claim_of_one_run_and_prune(outbox: WebhookOutbox) -> None:
    outbox.add(entries(2), **SCOPE, run_id="r1", now=T0)
    [other] = outbox.add(entries(1), **SCOPE, run_id="r2", now=T0)
    assert [i.id for i in outbox.claim(T0, 10, lease_s=5, run_id="r2")] == [other]
    outbox.delivered(other, T0)
    assert outbox.prune(T0) == 0
    assert outbox.prune(T0 + timedelta(seconds=1)) == 1
    assert outbox.counts() == {"pending": 2, "delivered": 0, "failed": 0}


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        project_dir=tmp_path,
        database_url=database_url,
        integrations=MappingProxyType(
            {"github": ProviderConfig(name="github", base_url="https://x.test", auth="none")}
        ),
        encryption_key=base64.b64encode(bytes(32)).decode(),
    )


def test_finish_run_writes_the_webhooks_in_its_transaction(
    tmp_path: Path, database_url: str
) -> None:
    scope = RecordScope("dev", "github", "acme")
    seen: list[dict[str, int]] = []

    def plan(deleted: Mapping[str, int]) -> Sequence[OutboxEntry]:
        seen.append(dict(deleted))
        return [OutboxEntry("http://a.test/h", '{"ok":1}'), OutboxEntry("http://b.test/h", "{}")]

    def broken(deleted: Mapping[str, int]) -> Sequence[OutboxEntry]:
        raise RuntimeError("plan failed")

    with SqlRecordStore.open(database_url) as records:
        run_id = records.start_run(scope, "issues", track_deletes=["Issue"])
        with pytest.raises(RuntimeError, match="plan failed"):
            records.finish_run(run_id, success=True, webhooks=broken)
        with WebhookOutbox.open(database_url) as outbox:
            assert outbox.items() == []  # all or nothing: the run is not finished either
        records.finish_run(run_id, success=True, webhooks=plan)
    assert seen == [{"Issue": 0}]
    # another process (a restart) finds them
    with WebhookOutbox.open(database_url) as outbox:
        rows = outbox.items(run_id=run_id)
    assert [(r.url, r.body, r.status, r.kind) for r in rows] == [
        ("http://a.test/h", '{"ok":1}', "pending", "sync"),
        ("http://b.test/h", "{}", "pending", "sync"),
    ]
    assert {(r.environment, r.integration_id, r.connection_id) for r in rows} == {
        ("dev", "github", "acme")
    }


def test_the_connections_webhook_url_override(tmp_path: Path, database_url: str) -> None:
    with ConnectionStore.open(settings_for(tmp_path, database_url)) as connections:
        connections.create("github", "acme", {})
        assert connections.get_webhook_url_override("github", "acme") is None
        connections.set_webhook_url_override("github", "acme", "http://mine.test/h")
        assert connections.get_webhook_url_override("github", "acme") == "http://mine.test/h"
        connections.set_webhook_url_override("github", "acme", "")
        assert connections.get_webhook_url_override("github", "acme") is None


def test_settle_writes_many_outcomes_at_once_and_skips_lost_claims(
    outbox: WebhookOutbox,
) -> None:
    ids = outbox.add(entries(4), **SCOPE, now=T0)
    claimed = {i.id: i for i in outbox.claim(T0, 10, lease_s=1)}
    # one lease ran out and another worker claimed that row again: this claim is stale
    [again] = outbox.claim(T0 + timedelta(seconds=2), 1, lease_s=60)
    stale = claimed[again.id]
    b, c, d = [claimed[i] for i in ids if i != again.id]
    later = T0 + timedelta(seconds=30)
    applied = outbox.settle(
        [
            (b, "delivered", T0, None),
            (c, "pending", later, "HTTP 500"),
            (stale, "pending", later, "HTTP 502"),
            (d, "failed", T0, "HTTP 503"),
        ]
    )
    assert applied == [True, True, False, True]
    rows = {row.id: row for row in outbox.items()}
    assert (rows[b.id].status, rows[b.id].finished_at, rows[b.id].last_error) == (
        "delivered",
        T0,
        None,
    )
    assert (rows[c.id].status, rows[c.id].next_attempt_at, rows[c.id].last_error) == (
        "pending",
        later,
        "HTTP 500",
    )
    assert (rows[d.id].status, rows[d.id].last_error) == ("failed", "HTTP 503")
    # the new claim's row is untouched: its attempt, its lease, no error
    assert (rows[again.id].attempts, rows[again.id].last_error) == (2, None)
    assert rows[again.id].next_attempt_at == T0 + timedelta(seconds=62)
    assert outbox.settle([]) == []


def test_a_backlog_due_at_one_moment_is_claimed_whole_and_in_order(
    outbox: WebhookOutbox,
) -> None:
    ids = outbox.add(entries(300), **SCOPE, now=T0)  # one transaction: one timestamp
    taken = [i.id for _ in range(30) for i in outbox.claim(T0, 10, lease_s=60)]
    assert sorted(taken) == sorted(ids) and len(taken) == 300
    assert outbox.claim(T0, 10, lease_s=60) == []
