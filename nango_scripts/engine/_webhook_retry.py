"""The retry policy of webhook deliveries, as pure functions: exponential backoff,
capped, with jitter."""

from __future__ import annotations

from typing import Final

from nango_scripts.settings import WebhookSettings

__all__ = ["DEFAULT_JITTER", "retry_delay", "retry_schedule"]

DEFAULT_JITTER: Final = 0.25
"""Each wait is shortened by a random part of up to this fraction of it."""


def retry_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    jitter: float = DEFAULT_JITTER,
    rand: float = 0.0,
) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1 = the first POST).

    ``base_s * 2 ** (attempt - 1)`` capped at ``max_s``, shortened by ``jitter * rand``
    of itself (``rand`` in [0, 1)), so that receivers coming back are not hit by every
    waiting webhook at once.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    nominal = min(max_s, base_s * 2.0 ** min(attempt - 1, 64))
    return nominal * (1.0 - jitter * min(max(rand, 0.0), 1.0))


def retry_schedule(settings: WebhookSettings, *, jitter: float = 0.0) -> list[float]:
    """The waits between the ``max_attempts`` POSTs of one webhook, at their shortest
    for ``jitter`` (the worst case); their sum is how long a receiver may be down."""
    return [
        retry_delay(
            n, base_s=settings.retry_base_s, max_s=settings.retry_max_s, jitter=jitter, rand=1.0
        )
        for n in range(1, settings.max_attempts)
    ]
