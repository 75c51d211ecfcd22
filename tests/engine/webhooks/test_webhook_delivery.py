"""The delivery worker against a real receiver on 127.0.0.1: retries with growing gaps,
a stable id, signatures, timeouts, attempts running out, bounded concurrency."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.waiting import eventually_async
from support.webhook_receiver import Receiver, free_port

from nango_scripts.engine import ActivityRecorder, WebhookDelivery
from nango_scripts.settings import WebhookSettings
from nango_scripts.store import ActivityStore, OutboxEntry, OutboxItem, WebhookOutbox

pytestmark = pytest.mark.anyio

SECRET = "sk_test_webhooks"
SCOPE = {"environment": "dev", "integration_id": "github", "connection_id": "acme"}
FAST = WebhookSettings(max_attempts=6, retry_base_s=0.05, retry_max_s=5, timeout_s=2)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[WebhookOutbox]:
    with WebhookOutbox.open(f"sqlite:///{tmp_path}/nango.db") as opened:
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with Receiver() as started:
        yield started


def worker(
    outbox: WebhookOutbox, settings: WebhookSettings = FAST, **kw: object
) -> WebhookDelivery:
    options: dict[str, object] = {"jitter": 0.1, "poll_s": 0.2} | kw
    return WebhookDelivery(outbox, SECRET, settings, **options)  # type: ignore[arg-type]


def add(outbox: WebhookOutbox, url: str, body: str = '{"model":"Issue","n":"é"}') -> str:
    [row_id] = outbox.add([OutboxEntry(url=url, body=body)], **SCOPE)
    return row_id


@dataclass
class Clock:
    """The worker's clock: real time, or ``frozen`` at a moment the test moves, plus
    ``ahead``; ``reads`` counts the worker's looks at it (each pass of its loop looks at
    least twice: to claim what is due, and to prune)."""

    frozen: datetime | None = None
    ahead: timedelta = timedelta(0)
    reads: int = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return (self.frozen or datetime.now(UTC)) + self.ahead

    async def looked(self, times: int = 3) -> None:
        """Return once the worker has looked ``times`` more times: a whole pass of its
        loop (a claim, and the POSTs it started) saw the clock as it is now."""
        seen = self.reads
        await eventually_async(lambda: self.reads >= seen + times, "the worker to look again")


async def test_500_three_times_then_200_is_accepted_once_with_growing_gaps(
    outbox: WebhookOutbox, receiver: Receiver
) -> None:
    receiver.answers = [500, 500, 500]
    row_id = add(outbox, receiver.url())
    # the worker's own clock, stopped: each retry is due only when the test moves it
    clock = Clock(frozen=datetime.now(UTC))
    delivery = worker(outbox, clock=clock, rand=lambda: 0.5)
    await delivery.start()
    waits: list[float] = []
    try:
        for attempt in (1, 2, 3):

            def planned(attempt: int = attempt) -> OutboxItem | None:
                [row] = outbox.items()
                # written (no longer the claim's lease of timeout_s + 5 s)
                retry = row.attempts == attempt and row.next_attempt_at < clock() + timedelta(
                    seconds=FAST.timeout_s
                )
                return row if retry else None

            row = await eventually_async(planned, f"attempt {attempt}'s retry to be planned")
            assert len(receiver.all()) == attempt  # none sent before it is due
            waits.append((row.next_attempt_at - clock()).total_seconds())
            clock.frozen = row.next_attempt_at
            delivery.notify()
        await receiver.until(1)
    finally:
        await delivery.stop()
    posts = receiver.all()
    assert [p.status for p in posts] == [500, 500, 500, 200]
    assert {p.id for p in posts} == {row_id}  # the same id on every retry
    assert {p.body for p in posts} == {'{"model":"Issue","n":"é"}'.encode()}
    for post in posts:
        expected = hmac.new(SECRET.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers["x-nango-hmac-sha256"] == expected
        assert post.headers["content-type"] == "application/json"
        assert post.headers["user-agent"].startswith("nango-scripts/")
    # nominal 0.05, 0.1, 0.2 s; jitter takes 10 % x rand (0.5 here) off
    for wait, nominal in zip(waits, (0.05, 0.1, 0.2), strict=True):
        assert wait == pytest.approx(nominal * 0.95, abs=1e-6), waits
    assert waits[0] < waits[1] < waits[2], waits
    [row] = outbox.items()
    assert (row.status, row.attempts) == ("delivered", 4)


async def test_out_of_attempts_the_row_is_marked_failed(
    outbox: WebhookOutbox, receiver: Receiver
) -> None:
    receiver.default = 503
    add(outbox, receiver.url())
    settings = WebhookSettings(max_attempts=3, retry_base_s=0.02, retry_max_s=1, timeout_s=2)
    clock = Clock()
    delivery = worker(outbox, settings, clock=clock)
    await delivery.start()
    try:
        await eventually_async(lambda: outbox.counts()["failed"], "the row to be marked failed")
        # nothing more comes, even once any retry would be long due
        clock.ahead = timedelta(hours=1)
        delivery.notify()
        await clock.looked()
    finally:
        await delivery.stop()
    assert [p.status for p in receiver.all()] == [503, 503, 503]
    [row] = outbox.items()
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "HTTP 503")


async def test_timeouts_and_network_errors_are_retried(
    outbox: WebhookOutbox, receiver: Receiver
) -> None:
    calls = itertools.count(1)

    def slow_once(body: bytes, headers: dict[str, str]) -> int:
        if next(calls) == 1:
            time.sleep(0.6)  # longer than the timeout: the sender gives up
        return 200

    receiver.decide = slow_once
    add(outbox, receiver.url())
    down = add(outbox, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    settings = WebhookSettings(max_attempts=5, retry_base_s=0.05, retry_max_s=1, timeout_s=0.2)
    delivery = worker(outbox, settings)
    await delivery.start()
    try:
        await eventually_async(lambda: outbox.counts()["delivered"], "a delivered row")
    finally:
        await delivery.stop()
    rows = {r.id: r for r in outbox.items()}
    assert rows[down].status == "pending" and rows[down].attempts >= 2
    assert "ConnectError" in (rows[down].last_error or "")
    accepted = [r for r in rows.values() if r.status == "delivered"]
    assert [r.attempts for r in accepted] == [2]
    assert len({p.id for p in receiver.all()}) == 1


async def test_a_hanging_receiver_holds_neither_other_receivers_nor_stop(
    outbox: WebhookOutbox, receiver: Receiver
) -> None:
    with Receiver(delay_s=3) as hanging:
        slow_ids = [add(outbox, hanging.url()) for _ in range(3)]
        fast_id = add(outbox, receiver.url())
        settings = WebhookSettings(max_attempts=5, retry_base_s=0.05, retry_max_s=1, timeout_s=10)
        delivery = worker(outbox, settings, concurrency=4)
        await delivery.start()
        await receiver.until(1, timeout_s=2)
        # accepted while the three hanging POSTs (3 s each) were all still unanswered
        assert hanging.all() == []
        await hanging.until_arrived(3)
        await delivery.stop(grace_s=0.1)
        assert hanging.all() == []  # stopped without waiting for their answers
    rows = {r.id: r for r in outbox.items()}
    assert rows[fast_id].status == "delivered"
    # the interrupted POSTs went back to the outbox, unsent, their attempt not counted
    assert [(rows[i].status, rows[i].attempts) for i in slow_ids] == [("pending", 0)] * 3
    assert all(rows[i].next_attempt_at <= datetime.now(UTC) for i in slow_ids)


async def test_concurrency_is_bounded(outbox: WebhookOutbox) -> None:
    with Receiver(delay_s=0.1) as slow:
        for _ in range(12):
            add(outbox, slow.url())
        delivery = worker(outbox, concurrency=3)
        await delivery.start()
        try:
            await slow.until(12)
        finally:
            await delivery.stop()
    # each POST takes 0.1 s: never more than 3 in the receiver at once, and 3 at times
    assert slow.most_at_once == 3
    assert len(slow.all()) == 12
    assert len(slow.all()) >= 4 * slow.most_at_once  # four waves of three (or more)


async def test_drain_tries_each_due_row_once_and_leaves_failures(
    outbox: WebhookOutbox, receiver: Receiver
) -> None:
    receiver.answers = [500]
    first = add(outbox, receiver.url(), '{"n":1}')
    second = add(outbox, receiver.url(), '{"n":2}')
    async with worker(outbox) as delivery:
        report = await delivery.drain()
    assert (report.delivered, report.retrying, report.failed) == (1, 1, 0)
    assert len(receiver.all()) == 2
    rows = {r.id: r for r in outbox.items()}
    assert {rows[first].status, rows[second].status} == {"pending", "delivered"}


async def test_attempts_ending_together_are_each_recorded_once(
    tmp_path: Path, outbox: WebhookOutbox
) -> None:
    """Eight POSTs at a time, each answered 500 then 200: every attempt is one
    operation of the Activity log with its own attempt number and outcome, and every
    row ends delivered, whatever the writer grouped together."""
    seen: set[str] = set()

    def first_500(body: bytes, headers: dict[str, str]) -> int:
        delivery = headers["x-nango-webhook-id"]
        if delivery in seen:
            return 200
        seen.add(delivery)
        return 500

    with (
        Receiver(decide=first_500) as receiver,
        ActivityStore.open(f"sqlite:///{tmp_path}/nango.db") as store,
    ):
        outbox.add(
            [OutboxEntry(url=receiver.url(), body=f'{{"model":"M{n}"}}') for n in range(40)],
            **SCOPE,
        )
        delivery = worker(outbox, concurrency=8, activity=ActivityRecorder(store))
        await delivery.start()
        try:
            await receiver.until(40)
        finally:
            await delivery.stop()
        operations = store.list_operations("dev", types=["webhook"], limit=200).operations
    assert {row.status for row in outbox.items()} == {"delivered"}
    assert len(operations) == 80
    by_result = sorted(
        (o.state, (o.result or {})["attempt"], (o.result or {})["status"]) for o in operations
    )
    assert by_result == [("failed", 1, 500)] * 40 + [("success", 2, 200)] * 40
    models = sorted((o.result or {})["model"] for o in operations)
    assert models == sorted([f"M{n}" for n in range(40)] * 2)


async def test_drain_counts_what_was_recorded_when_its_timeout_cuts_in(
    tmp_path: Path, outbox: WebhookOutbox
) -> None:
    """The timeout of a drain (``nango-scripts run``'s one try) cancels POSTs whose answer
    is in and waits to be written; the writer still records them delivered, so the report
    says delivered. A POST still waiting for its answer, and a row still waiting for a
    free slot, are handed back unsent: due now, their attempt not counted."""
    database = tmp_path / "nango.db"
    holding: list[sqlite3.Connection] = []

    def decide(body: bytes, headers: dict[str, str]) -> int:
        if b'"n":4' in body:
            time.sleep(2.5)  # slower than the drain's timeout
            return 200
        with lock_taken:
            if not holding:
                # Another writer holds the database for a while: the answers are in, but
                # the delivery worker cannot write them before the drain's timeout.
                other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
                other.execute("BEGIN IMMEDIATE")
                holding.append(other)
                threading.Timer(1.6, other.rollback).start()
        return 200

    lock_taken = threading.Lock()
    with Receiver(decide=decide) as receiver:
        ids = [add(outbox, receiver.url(), f'{{"n":{n}}}') for n in range(1, 6)]
        async with worker(outbox, concurrency=4) as delivery:
            report = await delivery.drain(timeout_s=1.0)
        await receiver.until(3)
    for other in holding:
        other.close()
    assert holding, "the database was never held: the test did not exercise the timeout"
    assert (report.delivered, report.retrying, report.failed) == (3, 2, 0)
    rows = {r.id: r for r in outbox.items()}
    assert [rows[i].status for i in ids] == ["delivered"] * 3 + ["pending"] * 2
    for unsent in ids[3:]:  # the slow POST and the one that never had a slot
        assert rows[unsent].attempts == 0
        assert rows[unsent].next_attempt_at <= datetime.now(UTC)


async def test_pythons_log_gets_no_secret_from_a_webhook_url(
    outbox: WebhookOutbox, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A URL may carry the secret key as a path token, or a token in its query or
    userinfo: the worker's log lines (retries, running out) show none of them."""
    receiver.default = 500
    base = receiver.url().replace("http://", f"http://hookuser:pw-{SECRET}-x@", 1)
    add(outbox, f"{base}/hook/{SECRET}?token=tok-planted-123&x=1")
    settings = WebhookSettings(max_attempts=2, retry_base_s=0.02, retry_max_s=1, timeout_s=2)
    delivery = worker(outbox, settings)
    caplog.set_level("INFO", logger="nango_scripts")
    await delivery.start()
    try:
        await eventually_async(lambda: outbox.counts()["failed"], "the row to be marked failed")
    finally:
        await delivery.stop()
    lines = [record.getMessage() for record in caplog.records]
    about = [line for line in lines if "attempt" in line]
    assert len(about) == 2, lines  # one retry, then out of attempts
    assert all("/hook/***" in line for line in about), about
    for planted in (SECRET, "tok-planted-123", "hookuser"):
        assert not any(planted in line for line in lines), (planted, lines)


async def test_a_token_in_the_url_path_is_shown_nowhere(
    tmp_path: Path, outbox: WebhookOutbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A Slack-style URL (``/services/T000/B000/<token>``) is its own credential: the
    Activity log (title, messages, fields) and Python's log show it down to its first
    path segment, whether the receiver answers or cannot be reached."""
    token = "xoxb-planted-path-token-51c7"
    settings = WebhookSettings(max_attempts=1, retry_base_s=0.02, retry_max_s=1, timeout_s=2)
    caplog.set_level("INFO", logger="nango_scripts")
    with (
        Receiver(default=500) as receiver,
        ActivityStore.open(f"sqlite:///{tmp_path}/nango.db") as store,
    ):
        answered = receiver.url(f"/services/T000/B000/{token}")
        unreachable = f"http://127.0.0.1:{free_port()}/services/T000/B000/{token}"
        add(outbox, answered)
        add(outbox, unreachable)
        async with worker(outbox, settings, activity=ActivityRecorder(store)) as delivery:
            report = await delivery.drain(timeout_s=10)
        assert report.failed == 2 and receiver.all()[0].path.endswith(token)
        operations = [store.get_operation(o.id) for o in store.list_operations("dev").operations]
    shown = repr(operations) + "\n".join(r.getMessage() for r in caplog.records)
    assert token not in shown and "B000" not in shown
    titles = sorted(o.title for o in operations if o is not None)
    assert titles == [
        f"sync webhook (Issue) to {url.split('/services/')[0]}/services/***"
        for url in sorted((answered, unreachable))
    ]
