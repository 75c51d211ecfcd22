"""When to retry a failed request and how long to wait: a pure, frozen policy.

Kept free of I/O and clocks (``now`` and the random draw are arguments) so that every
rule is unit-tested exactly; ``ApiClient`` only sleeps for what :meth:`RetryPolicy.delay`
returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry 429, 5xx and network errors with capped exponential backoff and jitter.

    A wait the server asks for (``Retry-After``, or the provider's rate-limit reset
    header on a 429) is used instead of the backoff, still capped by ``max_delay``.
    """

    base_delay: float = 1.0
    """Backoff before the first retry; doubles with each retry."""
    max_delay: float = 60.0
    """Cap on any single wait, computed or asked for by the server."""
    max_retries: int = 10
    """Cap on retries, whatever a call's ``retries`` says."""
    jitter: Literal["full", "decorrelated", "none"] = "full"
    """``full``: uniform in [0, backoff]; ``decorrelated``: uniform in [base, 3 x previous]."""
    rate_limit_reset_header: str | None = None
    rate_limit_reset_format: Literal["epoch", "seconds"] = "epoch"
    """``epoch``: the header is a Unix time (seconds or milliseconds); ``seconds``: a delay."""

    @staticmethod
    def is_retryable(status: int | None) -> bool:
        """``None`` stands for a network error (no response)."""
        return status is None or status == 429 or 500 <= status <= 599

    def backoff(self, attempt: int, rand: float, previous: float = 0.0) -> float:
        """Computed wait before retry number ``attempt + 1``; ``rand`` is in [0, 1)."""
        if self.jitter == "decorrelated":
            low = self.base_delay
            high = max(low, 3 * (previous or low))
            return min(self.max_delay, low + rand * (high - low))
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling * rand if self.jitter == "full" else ceiling

    def server_delay(
        self, status: int | None, headers: Mapping[str, str], now: float
    ) -> float | None:
        """The wait the response asks for, if any (``headers`` must be case-insensitive)."""
        if status is None:
            return None
        asked = parse_retry_after(headers.get("retry-after"), now)
        if asked is None and status == 429 and self.rate_limit_reset_header:
            raw = headers.get(self.rate_limit_reset_header)
            try:
                value = float(raw) if raw else None
            except ValueError:
                value = None
            if value is not None and self.rate_limit_reset_format == "epoch":
                value = (value / 1000 if value > 1e11 else value) - now
            if value is not None:
                asked = max(0.0, value)
        return None if asked is None else min(asked, self.max_delay)

    def delay(
        self,
        *,
        attempt: int,
        retries: int,
        status: int | None,
        headers: Mapping[str, str] | None = None,
        now: float = 0.0,
        rand: float = 1.0,
        previous: float = 0.0,
    ) -> float | None:
        """Seconds to wait before retrying, or None when the failure is final.

        ``attempt`` counts the retries already made; ``status`` is None for a network error.
        """
        if not self.is_retryable(status) or attempt >= min(retries, self.max_retries):
            return None
        asked = self.server_delay(status, headers or {}, now)
        return asked if asked is not None else self.backoff(attempt, rand, previous)
