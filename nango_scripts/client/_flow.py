"""Calls as plain generators, without I/O, driven by a sync or an async driver.

A *flow* yields steps and receives what they produced:

- ``Request`` -> the driver sends it and sends back the ``httpx.Response``, or the
  ``httpx.TransportError`` it raised (the flow decides: retry, or raise);
- ``Sleep`` -> the driver waits (``time.sleep`` or ``anyio.sleep``), sends back ``None``;
- ``Emit`` -> items for an iterator (``iter_records``); the driver yields them.

Its return value is the call's result. Retries, error mapping and parsing live here,
written once; ``Nango`` and ``AsyncNango`` only pick the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from time import time
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlencode

import httpx

from nango_scripts.client._errors import (
    NangoConnectionError,
    NangoTimeoutError,
    error_from_response,
)

__all__ = [
    "Emit",
    "Flow",
    "Outcome",
    "Request",
    "RetryPolicy",
    "Sleep",
    "Step",
    "call",
    "decode",
    "exchange",
]

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Not 500: Nango answers a failed action with a 500, which must not run it again."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    retryable: bool = False
    """Safe to send again (idempotent reads) when the client has ``retries``."""

    @property
    def full_url(self) -> str:
        """``url`` with ``params`` appended (to a query already in ``url``, if any)."""
        if not self.params:
            return self.url
        return self.url + ("&" if "?" in self.url else "?") + urlencode(self.params)


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Emit:
    items: Sequence[Any]


Outcome: TypeAlias = httpx.Response | httpx.TransportError
Step: TypeAlias = Request | Sleep | Emit
Flow: TypeAlias = Generator[Step, Outcome | None, T]


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 0
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Exponential backoff (``backoff * 2**attempt``), or the server's ``Retry-After``;
        never more than ``max_delay``."""
        wanted = self.backoff * 2.0**attempt
        if retry_after:
            wanted = _retry_after_seconds(retry_after.strip(), default=wanted)
        return max(0.0, min(wanted, self.max_delay))


def _retry_after_seconds(value: str, default: float) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time()
    except (TypeError, ValueError):
        return default


def _transport_error(error: httpx.TransportError, request: Request) -> NangoConnectionError:
    where = request.url.split("?", 1)[0]
    if isinstance(error, httpx.TimeoutException):
        return NangoTimeoutError(
            f"No answer from Nango in time: {request.method} {where} ({error})"
        )
    return NangoConnectionError(f"Could not reach Nango: {request.method} {where} ({error!r})")


def exchange(request: Request, policy: RetryPolicy) -> Flow[httpx.Response]:
    """Send ``request`` (again, for a retryable one, after a transport error, 429 or
    502-504); the 2xx response, or the ``NangoAPIError`` of the last answer."""
    attempt = 0
    while True:
        outcome = yield request
        can_retry = request.retryable and attempt < policy.retries
        retry_after: str | None = None
        if isinstance(outcome, httpx.TransportError):
            if not can_retry:
                raise _transport_error(outcome, request) from outcome
        elif outcome is None:
            raise RuntimeError("the driver sent no outcome for a request")
        elif outcome.is_success:
            return outcome
        elif can_retry and outcome.status_code in RETRY_STATUSES:
            retry_after = outcome.headers.get("Retry-After")
        else:
            raise error_from_response(outcome)
        yield Sleep(policy.delay(attempt, retry_after))
        attempt += 1


def decode(response: httpx.Response) -> Any:
    """The body as JSON; ``None`` when empty; the text when it is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def call(request: Request, policy: RetryPolicy, parse: Callable[[httpx.Response], T]) -> Flow[T]:
    response = yield from exchange(request, policy)
    return parse(response)
