"""An in-memory ``RecordStore`` for ``dryrun`` and tests: keeps what a run wrote, per model.

It does no change detection: every saved record counts as saved. With
``keep_records=False`` it only counts, so a long run uses constant memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from nango_scripts.store._records import (
    BatchResult,
    RecordScope,
    deep_merge,
    dump_records,
    record_id,
)


@dataclass
class ModelLog:
    """What one run did to one model, in call order (records only if kept)."""

    saved: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    saved_count: int = 0
    updated_count: int = 0
    deleted_count: int = 0


class MemoryRecordStore:
    def __init__(self, *, keep_records: bool = True) -> None:
        self.keep_records = keep_records
        self.models: dict[str, ModelLog] = {}
        self._current: dict[tuple[RecordScope, str], dict[str, dict[str, Any]]] = {}
        self._checkpoints: dict[tuple[RecordScope, str], dict[str, Any]] = {}

    def _log(self, model: str) -> ModelLog:
        return self.models.setdefault(model, ModelLog())

    def _table(self, scope: RecordScope, model: str) -> dict[str, dict[str, Any]]:
        return self._current.setdefault((scope, model), {})

    def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel],
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        log = self._log(model)
        result = BatchResult()
        log.saved_count += len(records)
        # No change detection here: everything saved counts as added, and "updated"
        # stays what batch_update did.
        result.added.extend(record_id(r) for r in records)
        if self.keep_records:
            table = self._table(scope, model)
            for record in dump_records(records):
                table[str(record["id"])] = record
                log.saved.append(record)
        return result

    def update_records(
        self, scope: RecordScope, model: str, records: Sequence[Mapping[str, Any]]
    ) -> BatchResult:
        # Nothing is stored before a dry run, so a partial update is reported as given
        # (merged into what this run saved, if anything).
        log = self._log(model)
        result = BatchResult()
        table = self._table(scope, model)
        for record in records:
            rid = str(record["id"])
            merged = deep_merge(table.get(rid, {}), record)
            if self.keep_records:
                table[rid] = merged
                log.updated.append(merged)
            result.updated.append(rid)
        log.updated_count += len(records)
        return result

    def delete_records(self, scope: RecordScope, model: str, ids: Sequence[str]) -> BatchResult:
        log = self._log(model)
        table = self._table(scope, model)
        for rid in ids:
            last = table.pop(rid, None)
            if self.keep_records:
                log.deleted.append(last if last is not None else {"id": rid})
        log.deleted_count += len(ids)
        return BatchResult(deleted=list(ids))

    def get_records_by_ids(
        self, scope: RecordScope, model: str, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        table = self._table(scope, model)
        return [dict(table[i]) for i in ids if i in table]

    def get_checkpoint(self, scope: RecordScope, sync_name: str) -> dict[str, Any] | None:
        found = self._checkpoints.get((scope, sync_name))
        return dict(found) if found is not None else None

    def save_checkpoint(
        self, scope: RecordScope, sync_name: str, checkpoint: Mapping[str, Any]
    ) -> None:
        self._checkpoints[(scope, sync_name)] = dict(checkpoint)

    def clear_checkpoint(self, scope: RecordScope, sync_name: str) -> None:
        self._checkpoints.pop((scope, sync_name), None)
