"""Records as ready JSON: the stored canonical JSON with ``_nango_metadata`` spliced in.

A page read this way is never decoded nor encoded again: each record's stored text gets
its metadata appended as the last key, the same keys and values that
``SqlRecordStore.list_records`` returns. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonRecordPage", "record_json"]

_META_KEY = '"_nango_metadata":'


@dataclass(frozen=True)
class JsonRecordPage:
    """A page of records, each one JSON object (UTF-8 bytes) with its ``_nango_metadata``."""

    records: list[bytes]
    next_cursor: str | None


def record_json(
    data: str,
    first_seen_at: str,
    last_modified_at: str,
    last_action: str,
    deleted_at: str | None,
    cursor: str,
) -> bytes:
    """``data`` (a stored record: canonical JSON of one object) with ``_nango_metadata`` last.

    The metadata values are the store's own: fixed-format timestamps, ``ADDED`` /
    ``UPDATED`` / ``DELETED`` and a base64url cursor, none of which needs escaping, so
    they are written as they are. A record whose data has a ``_nango_metadata`` key of its
    own (rare: the metadata replaces it) goes through a decode and encode instead.
    """
    if _META_KEY in data:
        return _replaced(data, first_seen_at, last_modified_at, last_action, deleted_at, cursor)
    deleted = "null" if deleted_at is None else f'"{deleted_at}"'
    body = data[:-1].rstrip()
    separator = "" if body.endswith("{") else ","
    return (
        f'{body}{separator}"_nango_metadata":{{"first_seen_at":"{first_seen_at}",'
        f'"last_modified_at":"{last_modified_at}","last_action":"{last_action}",'
        f'"deleted_at":{deleted},"cursor":"{cursor}"}}}}'
    ).encode()


def _replaced(
    data: str,
    first_seen_at: str,
    last_modified_at: str,
    last_action: str,
    deleted_at: str | None,
    cursor: str,
) -> bytes:
    record: dict[str, Any] = json.loads(data)  # json: integers of any size, as stored
    record.pop("_nango_metadata", None)  # the metadata goes last, as list_records puts it
    record["_nango_metadata"] = {
        "first_seen_at": first_seen_at,
        "last_modified_at": last_modified_at,
        "last_action": last_action,
        "deleted_at": deleted_at,
        "cursor": cursor,
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
