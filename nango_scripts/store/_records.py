"""The interface runs write records through.

Two stores implement it: ``MemoryRecordStore`` (``dryrun``, actions, tests) and
``SqlRecordStore`` (SQLite or PostgreSQL, with change detection). Like every store they
are synchronous; the runtime calls them through ``blocking``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel, TypeAdapter


@dataclass(frozen=True)
class RecordScope:
    """Where records belong: one connection of one integration in one environment."""

    environment: str
    integration_id: str
    connection_id: str


@dataclass
class BatchResult:
    """Ids by outcome for one batch call. ``unknown``: ids an update/delete did not find."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


class PreparedRecords:
    """Records in their stored form: by id (the last of an id wins), the canonical JSON
    and its hash. ``SqlRecordStore.prepare_records`` makes them on the caller's thread,
    so that the run's writer thread has only SQL left to run."""

    __slots__ = ("by_id",)

    def __init__(self, by_id: dict[str, tuple[bytes, bytes]]) -> None:
        self.by_id = by_id

    def __len__(self) -> int:
        return len(self.by_id)


class RecordStore(Protocol):
    """What the runtime needs from a records store.

    ``save_records`` gets validated model instances: turning them into stored form
    (``dump_records``, hashing) is the store's work, so a store that keeps nothing
    pays nothing (a store that hashes may offer ``prepare_records`` too, and take what
    it returns in place of the models). Updates are partial JSON-ready dicts. Every record has an ``id``;
    within one batch a duplicate id means the last one wins.
    """

    def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel],
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        """``run_id``: the run saving them, so that ``track_deletes`` knows what it saw."""
        ...

    def update_records(
        self, scope: RecordScope, model: str, records: Sequence[Mapping[str, Any]]
    ) -> BatchResult: ...

    def delete_records(self, scope: RecordScope, model: str, ids: Sequence[str]) -> BatchResult: ...

    def get_records_by_ids(
        self, scope: RecordScope, model: str, ids: Sequence[str]
    ) -> list[dict[str, Any]]: ...

    def get_checkpoint(self, scope: RecordScope, sync_name: str) -> dict[str, Any] | None: ...

    def save_checkpoint(
        self, scope: RecordScope, sync_name: str, checkpoint: Mapping[str, Any]
    ) -> None: ...

    def clear_checkpoint(self, scope: RecordScope, sync_name: str) -> None: ...


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into ``base``: nested dicts merge, everything else (lists too) replaces."""
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


@lru_cache(maxsize=256)
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def dump_records(records: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """JSON-ready dicts of ``records`` (all of one model), in one pydantic-core call."""
    if not records:
        return []
    dumped: list[dict[str, Any]] = _list_adapter(type(records[0])).dump_python(
        list(records), mode="json"
    )
    return dumped


def record_id(record: BaseModel) -> str:
    return str(record.id)  # type: ignore[attr-defined]
