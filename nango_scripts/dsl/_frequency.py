"""Nango's frequency phrases ("every 30 minutes", "every half day", "every 1h30m") -> seconds.

A pure function: ``@sync`` calls it at decoration time, the server can call it for
``PUT /sync/update-connection-frequency``.
"""

from __future__ import annotations

import re

__all__ = ["MIN_FREQUENCY_SECONDS", "FrequencyError", "parse_frequency"]

MIN_FREQUENCY_SECONDS = 30

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR

_UNITS: dict[str, int] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * _DAY),
    **dict.fromkeys(("mo", "mos", "month", "months"), 30 * _DAY),
}
_FRACTIONS = {"half": 0.5, "quarter": 0.25}

# One term: "30 minutes", "1.5h", "half an hour", "day". Terms may be glued ("1h30m"),
# or separated by spaces, commas or "and".
_TERM = re.compile(
    r"(?:(?P<number>\d+(?:\.\d+)?|\.\d+)|(?P<fraction>half|quarter)(?:\s+an?)?)?"
    r"\s*(?P<unit>[a-z]+)"
)
_SEPARATOR = re.compile(r"(?:\s|,|\band\b)*")

_ACCEPTED_FORMS = (
    'accepted forms: "every 30 minutes", "every hour", "every 2 hours", "every half day", '
    '"every day", "every week", "every month", "every 5m", "every 1h30m", "every 90 seconds"; '
    "units: s/sec/second, m/min/minute, h/hr/hour, d/day, w/week, mo/month"
)


class FrequencyError(ValueError):
    """A frequency phrase that cannot be read, or that is shorter than 30 seconds."""


def parse_frequency(text: str) -> int:
    """The number of seconds between runs that ``text`` asks for.

    Case-insensitive; the leading "every" is optional; a unit alone means one of it
    ("every hour"); "half"/"quarter" take a fraction of the unit; terms add up
    ("every 1h 30m"); a month is 30 days. Raises :class:`FrequencyError` for anything
    else and for less than :data:`MIN_FREQUENCY_SECONDS`.
    """
    if not isinstance(text, str):
        raise FrequencyError(f"frequency must be a string, not {type(text).__name__}")
    phrase = " ".join(text.lower().split())
    body = phrase.removeprefix("every").strip()
    if not body:
        raise FrequencyError(f'frequency "{text}" does not say how often; {_ACCEPTED_FORMS}')

    total = 0.0
    position = _skip_separators(body, 0)
    while position < len(body):
        term = _TERM.match(body, position)
        if term is None:
            problem = (
                "a number needs a unit"
                if body[position].isdigit() or body[position] == "."
                else f'"{body[position:]}" is not a duration'
            )
            raise FrequencyError(f'cannot read frequency "{text}": {problem}; {_ACCEPTED_FORMS}')
        unit = term["unit"]
        if unit not in _UNITS:
            raise FrequencyError(
                f'cannot read frequency "{text}": "{unit}" is not a unit of time; {_ACCEPTED_FORMS}'
            )
        if term["number"] is not None:
            amount = float(term["number"])
        elif term["fraction"] is not None:
            amount = _FRACTIONS[term["fraction"]]
        else:
            amount = 1.0
        total += amount * _UNITS[unit]
        position = _skip_separators(body, term.end())

    seconds = round(total)
    if seconds <= 0:
        raise FrequencyError(f'frequency "{text}" is zero; a sync needs a positive interval')
    if seconds < MIN_FREQUENCY_SECONDS:
        raise FrequencyError(
            f'frequency "{text}" is {seconds} seconds; '
            f"the shortest allowed is {MIN_FREQUENCY_SECONDS} seconds"
        )
    return seconds


def _skip_separators(body: str, position: int) -> int:
    separators = _SEPARATOR.match(body, position)
    return separators.end() if separators else position
