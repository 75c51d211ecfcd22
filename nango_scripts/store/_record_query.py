"""What one page of a delta read asks for, and the limits of such a read.

``RecordQuery`` is the one description of a page of records: the store reads it
(``list_records``, ``list_records_json``) and the server keys its read-ahead by it.
It is frozen and hashable (lists given to it are kept as tuples). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from nango_scripts.errors import RecordQueryError
from nango_scripts.store._records import RecordScope

__all__ = [
    "RECORDS_LIMIT_DEFAULT",
    "RECORDS_LIMIT_MAX",
    "RECORD_IDS_MAX",
    "Action",
    "RecordQuery",
]

RECORDS_LIMIT_DEFAULT = 100
"""Records per page when a read does not say."""
RECORDS_LIMIT_MAX = 10_000
"""The most records one page may hold."""
RECORD_IDS_MAX = 100
"""The most ids one read may ask for."""

Action = Literal["ADDED", "UPDATED", "DELETED"]
_FILTERS: dict[str, Action] = {"added": "ADDED", "updated": "UPDATED", "deleted": "DELETED"}


@dataclass(frozen=True)
class RecordQuery:
    """One page of a model's records for one connection, ascending by change.

    ``modified_after``: changed at or after this moment (ISO 8601 text or a datetime);
    ``cursor``: the ``next_cursor`` of the page before; ``filter``: ``added``,
    ``updated``, ``deleted`` (comma-separated text or a list); ``ids``: only these
    records (at most :data:`RECORD_IDS_MAX`).
    """

    scope: RecordScope
    model: str
    modified_after: datetime | str | None = None
    limit: int = RECORDS_LIMIT_DEFAULT
    cursor: str | None = None
    filter: str | tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # Lists become tuples: a query is a dict key (the server's read-ahead).
        if self.filter is not None and not isinstance(self.filter, str):
            object.__setattr__(self, "filter", tuple(self.filter))
        if self.ids is not None:
            object.__setattr__(self, "ids", tuple(str(i) for i in self.ids))

    def after(self, cursor: str) -> RecordQuery:
        """The same query from ``cursor`` on (the next page)."""
        return replace(self, cursor=cursor)

    def check(self) -> None:
        """Refuse a query no read can answer, naming the limit."""
        limit = self.limit
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= RECORDS_LIMIT_MAX
        ):
            raise RecordQueryError(
                f"limit must be a whole number from 1 to {RECORDS_LIMIT_MAX}, not {limit!r}."
            )
        if self.ids is not None and len(self.ids) > RECORD_IDS_MAX:
            raise RecordQueryError(
                f"ids: at most {RECORD_IDS_MAX} per request, not {len(self.ids)}."
            )

    def actions(self) -> list[Action] | None:
        """The ``last_action`` values ``filter`` keeps (None: all of them)."""
        return parse_filter(self.filter)


def parse_filter(value: str | Iterable[str] | None) -> list[Action] | None:
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    actions: list[Action] = []
    for part in parts:
        word = part.strip().lower()
        if not word:
            continue
        if word not in _FILTERS:
            raise RecordQueryError(
                f"filter {part!r} is not one of added, updated, deleted (combine them with commas)."
            )
        if _FILTERS[word] not in actions:
            actions.append(_FILTERS[word])
    return actions or None
