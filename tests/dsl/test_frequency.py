"""``parse_frequency``: every phrase of Nango's vocabulary, and what it refuses."""

from __future__ import annotations

import pytest

from nango_scripts.dsl import FrequencyError, parse_frequency

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@pytest.mark.parametrize(
    ("phrase", "seconds"),
    [
        ("every 30 minutes", 30 * MINUTE),
        ("every minute", MINUTE),
        ("every hour", HOUR),
        ("every 2 hours", 2 * HOUR),
        ("every half hour", 30 * MINUTE),
        ("every half day", 12 * HOUR),
        ("every day", DAY),
        ("every week", 7 * DAY),
        ("every month", 30 * DAY),
        ("every 5m", 5 * MINUTE),
        ("every 1h30m", 90 * MINUTE),
        ("every 1h 30m", 90 * MINUTE),
        ("every 90 seconds", 90),
        ("every 30s", 30),
        ("every 1d", DAY),
        ("every 2 weeks", 14 * DAY),
        ("every 1.5 hours", 90 * MINUTE),
    ],
)
def test_nango_phrases(phrase: str, seconds: int) -> None:
    assert parse_frequency(phrase) == seconds


@pytest.mark.parametrize(
    ("phrase", "seconds"),
    [
        ("30 minutes", 30 * MINUTE),  # "every" is optional
        ("EVERY Hour", HOUR),  # case does not matter
        ("  every   2   hours ", 2 * HOUR),  # nor spacing
        ("every half an hour", 30 * MINUTE),
        ("every quarter hour", 15 * MINUTE),
        ("every 1 hour and 30 minutes", 90 * MINUTE),
        ("every 1 hour, 15 minutes", 75 * MINUTE),
        ("every 2 mo", 60 * DAY),
    ],
)
def test_variants(phrase: str, seconds: int) -> None:
    assert parse_frequency(phrase) == seconds


@pytest.mark.parametrize(
    ("unit", "seconds"),
    [
        *[(u, 1) for u in ("s", "sec", "secs", "second", "seconds")],
        *[(u, MINUTE) for u in ("m", "min", "mins", "minute", "minutes")],
        *[(u, HOUR) for u in ("h", "hr", "hrs", "hour", "hours")],
        *[(u, DAY) for u in ("d", "day", "days")],
        *[(u, 7 * DAY) for u in ("w", "week", "weeks")],
        *[(u, 30 * DAY) for u in ("mo", "month", "months")],
    ],
)
def test_every_unit_spelling(unit: str, seconds: int) -> None:
    assert parse_frequency(f"every 60 {unit}") == 60 * seconds
    assert parse_frequency(f"every 60{unit}") == 60 * seconds


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        ("every", "does not say how often"),
        ("", "does not say how often"),
        ("every blue moon", '"blue" is not a unit of time'),
        ("every 0 minutes", "is zero"),
        ("every 10 seconds", "is 10 seconds; the shortest allowed is 30 seconds"),
        ("every 30", "a number needs a unit"),
        ("every 5 ms", '"ms" is not a unit of time'),
    ],
)
def test_refused(phrase: str, reason: str) -> None:
    with pytest.raises(FrequencyError) as info:
        parse_frequency(phrase)
    assert reason in str(info.value)
    assert f'"{phrase}"' in str(info.value)


def test_unreadable_phrase_lists_the_accepted_forms() -> None:
    with pytest.raises(FrequencyError, match=r'accepted forms: "every 30 minutes"'):
        parse_frequency("every blue moon")


def test_frequency_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="shortest allowed"):
        parse_frequency("every 29s")
