"""RetryPolicy: which failures are retried and how long to wait, without I/O."""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from nango_scripts.http import RetryPolicy
from nango_scripts.http._retry import parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize("status", [None, 429, 500, 502, 503, 599])
def test_retryable(status: int | None) -> None:
    assert RetryPolicy().delay(attempt=0, retries=3, status=status) is not None


@pytest.mark.parametrize("status", [200, 201, 301, 400, 401, 403, 404, 422])
def test_not_retryable(status: int) -> None:
    assert RetryPolicy().delay(attempt=0, retries=3, status=status) is None


def test_retries_run_out() -> None:
    policy = RetryPolicy(jitter="none")
    assert [policy.delay(attempt=a, retries=3, status=500) for a in range(4)] == [1, 2, 4, None]
    assert policy.delay(attempt=0, retries=0, status=500) is None


def test_max_retries_caps_any_retries_value() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(attempt=1, retries=50, status=500) is not None
    assert policy.delay(attempt=2, retries=50, status=500) is None


def test_exponential_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter="none")
    assert [policy.backoff(a, rand=0.0) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_jitter_draws_below_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=60.0)
    assert policy.backoff(3, rand=0.0) == 0.0
    assert policy.backoff(3, rand=0.5) == 4.0
    assert policy.backoff(10, rand=0.5) == 30.0


def test_decorrelated_jitter_stays_between_base_and_three_times_previous() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, jitter="decorrelated")
    assert policy.backoff(0, rand=0.0, previous=0.0) == 1.0
    assert policy.backoff(0, rand=1.0, previous=0.0) == 3.0
    assert policy.backoff(1, rand=1.0, previous=2.0) == 6.0
    assert policy.backoff(2, rand=1.0, previous=6.0) == 10.0  # capped


def test_retry_after_seconds_wins_over_backoff() -> None:
    headers = httpx.Headers({"Retry-After": "7"})
    assert RetryPolicy().delay(attempt=0, retries=3, status=429, headers=headers, now=NOW) == 7.0
    assert RetryPolicy().delay(attempt=0, retries=3, status=503, headers=headers, now=NOW) == 7.0


def test_retry_after_http_date() -> None:
    headers = httpx.Headers({"Retry-After": formatdate(NOW + 12, usegmt=True)})
    assert RetryPolicy().delay(attempt=0, retries=3, status=429, headers=headers, now=NOW) == 12.0


def test_retry_after_is_capped_by_max_delay() -> None:
    headers = httpx.Headers({"Retry-After": "3600"})
    policy = RetryPolicy(max_delay=60.0)
    assert policy.delay(attempt=0, retries=3, status=429, headers=headers, now=NOW) == 60.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        (formatdate(NOW - 30, usegmt=True), 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_rate_limit_reset_epoch_seconds_and_millis() -> None:
    policy = RetryPolicy(rate_limit_reset_header="x-ratelimit-reset")
    for value in (str(int(NOW + 20)), str(int((NOW + 20) * 1000))):
        headers = httpx.Headers({"X-RateLimit-Reset": value})
        assert policy.delay(attempt=0, retries=3, status=429, headers=headers, now=NOW) == 20.0


def test_rate_limit_reset_as_a_delay() -> None:
    policy = RetryPolicy(
        rate_limit_reset_header="ratelimit-reset", rate_limit_reset_format="seconds"
    )
    headers = httpx.Headers({"RateLimit-Reset": "9"})
    assert policy.delay(attempt=0, retries=3, status=429, headers=headers, now=NOW) == 9.0


def test_rate_limit_reset_header_only_counts_on_429() -> None:
    policy = RetryPolicy(rate_limit_reset_header="x-ratelimit-reset", jitter="none")
    headers = httpx.Headers({"x-ratelimit-reset": str(NOW + 3000)})
    assert policy.delay(attempt=0, retries=3, status=500, headers=headers, now=NOW) == 1.0


def test_garbage_reset_header_falls_back_to_backoff() -> None:
    policy = RetryPolicy(rate_limit_reset_header="x-ratelimit-reset", jitter="none")
    headers = httpx.Headers({"x-ratelimit-reset": "tomorrow"})
    assert policy.delay(attempt=1, retries=3, status=429, headers=headers, now=NOW) == 2.0
