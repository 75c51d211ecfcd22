"""Small helpers shared by the Zendesk templates."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_millis(value: str | None) -> str | None:
    """A Zendesk timestamp ("2026-03-02T09:15:00Z") as Nango stores it: UTC with milliseconds."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def epoch_seconds(moment: datetime) -> int:
    """`start_time` of Zendesk's incremental exports: whole seconds since the epoch."""
    if moment.tzinfo is None:  # a naive last sync date is UTC
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
