"""The delivery worker of webhooks to the user's backend (SPEC 7).

:class:`WebhookDelivery` sends what the outbox holds: it claims due rows, POSTs each body
(the exact bytes signed by ``X-Nango-Hmac-Sha256``, HMAC-SHA256 with the secret key;
``X-Nango-Webhook-Id`` is the row id, the same on every retry), marks a 2xx delivered
and retries anything else (non-2xx, network error, timeout) with exponential backoff
and jitter until ``max_attempts``. Runs only insert rows: a slow or absent receiver
never holds a run up. What is sent is made in
:mod:`~nango_scripts.engine._webhook_payloads`; when the next attempt comes, in
:mod:`~nango_scripts.engine._webhook_retry`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

import httpx

from nango_scripts.engine._activity import ActivityRecorder
from nango_scripts.engine._redact import SecretScrubber, shown_url, without_url
from nango_scripts.engine._secret_key import resolve_secret_key
from nango_scripts.engine._webhook_payloads import webhook_headers
from nango_scripts.engine._webhook_retry import DEFAULT_JITTER, retry_delay
from nango_scripts.settings import Settings, WebhookSettings
from nango_scripts.store import (
    Operation,
    OutboxItem,
    OutboxStatus,
    WebhookOutbox,
    blocking,
)

__all__ = [
    "DeliveryReport",
    "WebhookDelivery",
    "send_run_webhooks",
]

_log = logging.getLogger("nango_scripts.webhooks")

_RETENTION: Final = timedelta(days=7)
_PRUNE_EVERY: Final = timedelta(hours=1)


@dataclass
class DeliveryReport:
    """What one :meth:`WebhookDelivery.drain` (or :func:`send_run_webhooks`) did."""

    delivered: int = 0
    retrying: int = 0
    """Failed this time; left in the outbox for a later attempt."""
    failed: int = 0
    """Out of attempts."""
    key_created: str | None = None
    """The secret key, when :func:`send_run_webhooks` generated it (show it)."""


Result = Literal["delivered", "retrying", "failed", "lost"]


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookDelivery:
    """Sends the outbox: ``await start()`` in a service, or ``await drain()`` once.

    At most ``concurrency`` POSTs at a time. The worker sleeps until the next row is due,
    a :meth:`notify` (a run just wrote rows) or ``poll_s`` (rows written by another
    process, such as ``nango-scripts run``).
    """

    def __init__(
        self,
        outbox: WebhookOutbox,
        secret_key: str,
        settings: WebhookSettings,
        *,
        concurrency: int = 8,
        poll_s: float = 1.0,
        jitter: float = DEFAULT_JITTER,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = _now,
        rand: Callable[[], float] = random.random,
        activity: ActivityRecorder | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.outbox = outbox
        self.settings = settings
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.jitter = jitter
        self.lease_s = settings.timeout_s + 5.0
        """How long a claimed row stays hidden: a worker killed mid-POST leaves it due again."""
        self._secret = secret_key
        # A URL may carry a token (a path segment, a query parameter): Python's log shows
        # it cut down (shown_url), like the Activity log, and never the secret key.
        self._scrub = SecretScrubber({"secret_key": secret_key}).text
        self._transport = transport
        self._clock = clock
        self._rand = rand
        self._client: httpx.AsyncClient | None = None
        self._inflight: set[asyncio.Task[Result]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_prune: datetime | None = None
        self._settling: list[tuple[_Attempt, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._recorders: list[dict[str, Result]] = []
        """One per :meth:`drain` under way: row id -> the outcome the writer recorded."""
        self.activity = activity
        """Each attempt is an operation of the Activity log (None: not recorded)."""

    # -- lifecycle --------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self.settings.timeout_s,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=self.concurrency),
            )
        return self._client

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="nango-webhooks")

    async def stop(self, *, grace_s: float = 2.0) -> None:
        """Stop claiming; give POSTs in flight ``grace_s`` to end, then hand the rest
        back to the outbox unsent."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._written()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> WebhookDelivery:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def notify(self) -> None:
        """New rows are due: look now rather than at the next poll."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- one pass -----------------------------------------------------------------------------

    async def drain(
        self, *, run_id: str | None = None, limit: int = 1000, timeout_s: float | None = None
    ) -> DeliveryReport:
        """One attempt for each row due now (of one run, if given), without waiting for
        retries: what fails stays in the outbox for the next attempt (``serve``)."""
        report = DeliveryReport()
        items = await blocking(
            self.outbox.claim, self._clock(), limit, lease_s=self.lease_s, run_id=run_id
        )
        if not items:
            return report
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: OutboxItem) -> Result:
            began = False
            try:
                async with gate:
                    began = True
                    return await self._deliver(item)
            except asyncio.CancelledError:
                if not began:  # cancelled waiting for a slot: never sent, give it back
                    self.outbox.release(item, self._clock())
                raise

        # The outcomes as the writer records them: a timeout cancels tasks that already
        # handed their attempt to the writer, which still records it (delivered, say).
        recorded: dict[str, Result] = {}
        self._recorders.append(recorded)
        tasks = [asyncio.create_task(one(item)) for item in items]
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*tasks)
        except TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()  # each hands its row back if its POST had not ended
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._written()
            self._recorders.remove(recorded)
        for item in items:
            result = recorded.get(item.id)
            if result == "delivered":
                report.delivered += 1
            elif result == "failed":
                report.failed += 1
            else:  # retrying, handed back unsent, or lost (back when its lease ends)
                report.retrying += 1
        return report

    # -- the worker ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            delay = self.poll_s
            try:
                delay = min(delay, await self._fill())
                await self._maybe_prune()
            except Exception as exc:  # a database hiccup must not stop deliveries for good
                _log.warning("webhook delivery: %s", self._scrub(str(exc)))
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # arrives as the event is set (a run's notify() during stop()), and stop() hangs.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(delay, 0.0)):
                    await self._wake.wait()

    async def _fill(self) -> float:
        """Claim due rows into free slots; return how long to sleep at most."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return self.poll_s  # a finishing POST wakes the loop
        items = await blocking(self.outbox.claim, self._clock(), free, lease_s=self.lease_s)
        for item in items:
            task = asyncio.create_task(self._deliver(item), name=f"webhook {item.id}")
            self._inflight.add(task)
            task.add_done_callback(self._done)
        if len(items) == free:
            return self.poll_s
        next_due = await blocking(self.outbox.next_due)
        if next_due is None:
            return self.poll_s
        return (next_due - self._clock()).total_seconds()

    def _done(self, task: asyncio.Task[Result]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _maybe_prune(self) -> None:
        now = self._clock()
        if self._last_prune is None or now - self._last_prune >= _PRUNE_EVERY:
            self._last_prune = now
            await blocking(self.outbox.prune, now - _RETENTION)

    async def _deliver(self, item: OutboxItem) -> Result:
        body = item.body.encode()
        headers = webhook_headers(self._secret, body, item.id)
        error: str | None = None
        status: int | None = None
        began = self._clock()
        started = asyncio.get_running_loop().time()
        try:
            response = await self._http().post(item.url, content=body, headers=headers)
            status = response.status_code
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except asyncio.CancelledError:
            self.outbox.release(item, self._clock())  # quick, and the loop is going away
            raise
        except httpx.TimeoutException:
            error = f"no answer within {self.settings.timeout_s:g} s"
        except Exception as exc:  # network errors, and a URL httpx cannot use
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            error = without_url(error, item.url)  # it may quote the URL, token and all
        took_ms = (asyncio.get_running_loop().time() - started) * 1000
        try:
            return await self._settle(_Attempt(item, status, error, began, took_ms))
        except Exception as exc:  # the database: the row comes back when its lease ends
            _log.warning(
                "webhook %s: its outcome was not recorded: %s", item.id, self._scrub(str(exc))
            )
            return "lost"

    async def _settle(self, attempt: _Attempt) -> Result:
        """Hand the end of an attempt to the writer. Answers that come while it writes
        are written together (one transaction for the outbox, one for the Activity log),
        so a busy worker does not pay a few commits per webhook."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._settling.append((attempt, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_settled(), name="nango-webhooks-write")
        return await future

    async def _write_settled(self) -> None:
        try:
            while self._settling:
                batch, self._settling = self._settling, []
                try:
                    results = await blocking(self._write, [a for a, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (attempt, future), result in zip(batch, results, strict=True):
                    for recorded in self._recorders:
                        recorded[attempt.item.id] = result
                    if not future.done():  # its POST's task was cancelled meanwhile
                        future.set_result(result)
        finally:
            self._writer = None

    async def _written(self) -> None:
        """Wait until every attempt handed to the writer is written."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    def _write(self, attempts: Sequence[_Attempt]) -> list[Result]:
        """Blocking (a worker thread): the outbox rows, then the Activity log."""
        now = self._clock()
        plans: list[tuple[OutboxItem, OutboxStatus, datetime, str | None]] = []
        waits: list[float | None] = []
        for attempt in attempts:
            item, error = attempt.item, attempt.error
            wait: float | None = None
            if error is None:
                plans.append((item, "delivered", now, None))
            elif item.attempts >= self.settings.max_attempts:
                plans.append((item, "failed", now, error))
            else:
                wait = retry_delay(
                    item.attempts,
                    base_s=self.settings.retry_base_s,
                    max_s=self.settings.retry_max_s,
                    jitter=self.jitter,
                    rand=self._rand(),
                )
                plans.append((item, "pending", now + timedelta(seconds=wait), error))
            waits.append(wait)
        applied = self.outbox.settle(plans)
        results: list[Result] = []
        for (item, status, _, error), wait, ok in zip(plans, waits, applied, strict=True):
            where = self._scrub(
                f"webhook {item.id} to {shown_url(item.url)} (attempt {item.attempts})"
            )
            if status == "delivered":
                results.append("delivered")
            elif status == "failed":
                _log.warning("%s failed: %s; out of attempts", where, self._scrub(str(error)))
                results.append("failed" if ok else "lost")
            else:
                _log.info(
                    "%s failed: %s; next attempt in %.3g s", where, self._scrub(str(error)), wait
                )
                results.append("retrying" if ok else "lost")
        if self.activity is not None:
            self.activity.write(
                [
                    self._operation(self.activity, attempt, result, wait)
                    for attempt, result, wait in zip(attempts, results, waits, strict=True)
                ]
            )
        return results

    @staticmethod
    def _operation(
        activity: ActivityRecorder, attempt: _Attempt, result: Result, wait: float | None
    ) -> Operation:
        item = attempt.item
        try:
            payload = json.loads(item.body)
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        return activity.webhook_delivery(
            environment=item.environment,
            url=item.url,
            integration_id=item.integration_id,
            connection_id=item.connection_id,
            script=payload.get("syncName"),
            event=str(payload.get("type") or item.kind),
            model=payload.get("model"),
            attempt=item.attempts,
            status=attempt.status,
            duration_ms=round(attempt.took_ms, 1),
            error=attempt.error,
            retry_in_s=wait if result == "retrying" else None,
            will_retry=None if attempt.error is None else result != "failed",
            delivery_id=item.id,
            started_at=attempt.began,
        )


@dataclass(frozen=True)
class _Attempt:
    """One POST's end, waiting for the writer."""

    item: OutboxItem
    status: int | None
    error: str | None
    began: datetime
    took_ms: float


async def send_run_webhooks(
    settings: Settings,
    run_id: str,
    *,
    timeout_s: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    activity: ActivityRecorder | None = None,
) -> DeliveryReport | None:
    """One attempt for each webhook of run ``run_id`` (what ``nango-scripts run`` does
    before it exits); what fails stays in the outbox for ``serve`` to retry. None when
    the run has no webhooks. Each attempt is recorded in ``activity``, as ``serve``'s
    worker records its own."""
    with WebhookOutbox.open(settings.database_url) as outbox:
        if not await blocking(outbox.items, status="pending", run_id=run_id, limit=1):
            return None
        key, created = await blocking(resolve_secret_key, settings)
        delivery = WebhookDelivery(
            outbox, key, settings.webhooks, transport=transport, activity=activity
        )
        try:
            report = await delivery.drain(
                run_id=run_id,
                timeout_s=settings.webhooks.timeout_s + 5 if timeout_s is None else timeout_s,
            )
        finally:
            await delivery.stop()
    report.key_created = key if created else None
    return report
