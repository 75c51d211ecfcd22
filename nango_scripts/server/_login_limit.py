"""Wrong secret keys, limited per client: a token bucket of failures per client address.

Both doors that take the secret key share one :class:`LoginLimiter`: the API's
``Authorization: Bearer`` header (:mod:`._auth`) and the Activity page's login form
(:mod:`._page_login`), so that alternating between them buys nothing.

A client may get the key wrong ``BURST`` times in a row; each failure takes a token from
its bucket, and a token comes back every ``REFILL_S`` seconds. With the bucket empty the
client is limited: every key it sends answers 429 with ``Retry-After`` *without being
compared*, so that guessing on at full speed learns nothing, until a token is back (at
most ``REFILL_S`` seconds after its last failure). That bounds guessing to one key per
``REFILL_S`` per client, while a user who mistypes the key, or whose neighbour at the
same address does, waits seconds, not minutes. A request that sends no key is no guess
and is never counted.

The client is the address uvicorn gives (the peer, or ``X-Forwarded-For`` from a proxy it
trusts, by default 127.0.0.1: docs/service.md); an IPv6 client is its /64 network, the
block one machine usually holds. Buckets that have filled up again are forgotten and the
table is bounded (``MAX_CLIENTS``), so a flood of addresses costs bounded memory.

Pure, with the clock given: used from the event loop only (no lock).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from typing import Final

__all__ = [
    "BURST",
    "MAX_CLIENTS",
    "REFILL_S",
    "LoginLimiter",
    "client_key",
    "too_many_attempts_message",
]

BURST: Final = 10
"""Wrong keys a client may send in a row before it is limited."""
REFILL_S: Final = 2.0
"""Seconds for one more try to come back: the longest wait of a limited client."""
MAX_CLIENTS: Final = 10_000
"""Buckets kept at most; the longest untouched go first."""


def too_many_attempts_message(wait_s: int) -> str:
    """What a limited client is told (the API's error message, the login form's)."""
    return f"Too many wrong secret keys from this client. Try again in {wait_s} s."


def client_key(peer: tuple[str, int] | None) -> str:
    """The bucket of an ASGI ``client`` (host, port): the IPv4 address, the IPv6 /64."""
    if peer is None:
        return "unknown"
    host = peer[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP (a Unix socket's name, a test client's): as it is
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class LoginLimiter:
    def __init__(
        self,
        *,
        burst: int = BURST,
        refill_s: float = REFILL_S,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.refill_s = refill_s
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        """client -> (tokens, when counted); oldest-touched first (dicts keep order)."""

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, client: str, now: float) -> float:
        bucket = self._buckets.get(client)
        if bucket is None:
            return float(self.burst)
        tokens, then = bucket
        return min(float(self.burst), tokens + (now - then) / self.refill_s)

    def wait_s(self, client: str) -> int:
        """0 if ``client`` may try a key now; else the whole seconds until it may."""
        tokens = self._tokens(client, self._clock())
        if tokens >= 1:
            return 0
        return max(1, math.ceil((1 - tokens) * self.refill_s))

    def failed(self, client: str) -> None:
        """``client`` sent a wrong key (it was allowed to try: :meth:`wait_s` was 0)."""
        now = self._clock()
        tokens = max(0.0, self._tokens(client, now) - 1)
        self._buckets.pop(client, None)
        self._buckets[client] = (tokens, now)  # last in the order: the latest touched
        if len(self._buckets) > self.max_clients:
            self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop the buckets full again, then the longest untouched, down to 90 % of the
        bound: a flood of new addresses scans the table once per tenth of it, not always."""
        for client in [c for c in self._buckets if self._tokens(c, now) >= self.burst]:
            del self._buckets[client]
        keep = self.max_clients * 9 // 10
        while len(self._buckets) > keep:
            del self._buckets[next(iter(self._buckets))]
