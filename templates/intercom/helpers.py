"""Small helpers shared by the Intercom templates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .models import Contact


def iso_from_unix(seconds: int | None) -> str | None:
    """Intercom's Unix-seconds timestamps as Nango stores them: ISO 8601, UTC, milliseconds."""
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def to_contact(raw: dict[str, Any]) -> Contact:
    return Contact(
        id=raw["id"],
        workspace_id=raw["workspace_id"],
        external_id=raw.get("external_id"),
        type=raw["role"],
        # Leads may have no e-mail address yet: null, as in Nango's records.
        email=raw.get("email"),
        phone=raw.get("phone"),
        name=raw.get("name"),
        created_at=iso_from_unix(raw["created_at"]) or "",
        updated_at=iso_from_unix(raw["updated_at"]) or "",
        last_seen_at=iso_from_unix(raw.get("last_seen_at")),
        last_replied_at=iso_from_unix(raw.get("last_replied_at")),
    )
