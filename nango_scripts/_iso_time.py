"""Moments as Nango writes them: ISO 8601 in UTC with milliseconds and ``Z``.

Standard library only, below every layer: the API, the webhooks and the CLI's JSON write
dates with :func:`iso_millis`. The client (standalone, see the import-linter contract)
keeps a two-line copy of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_millis"]


def iso_millis(moment: datetime) -> str:
    """``2024-05-01T10:00:00.000Z``, as JavaScript's ``toISOString`` writes it (a naive
    ``moment`` is taken as UTC; microseconds are cut to milliseconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    # %Y does not pad years before 1000; toISOString does
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
