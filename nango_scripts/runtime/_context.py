"""The ``nango`` object a script receives: ``NangoAction`` and ``NangoSync``.

Everything here is async. Plain ``def`` scripts get the blocking twins in
``_blocking.py``, which drive these same methods on the run's event loop.
"""

from __future__ import annotations

import copy
import functools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, Unpack

import httpx
from pydantic import BaseModel

from nango_scripts.dsl import SyncSpec
from nango_scripts.errors import RecordValidationError, ScriptRunError
from nango_scripts.http import ApiClient, PageOptions, RequestOptions
from nango_scripts.runtime._awaited import Ledger, must_await
from nango_scripts.runtime._results import InvalidRecord, LogRecord, ModelCounts
from nango_scripts.runtime._validation import validate_batch, validate_partial
from nango_scripts.runtime._writes import RunWrites
from nango_scripts.store import BatchResult, Connection, RecordScope, RecordStore, blocking

__all__ = ["NangoAction", "NangoSync", "RunState"]

T = TypeVar("T")

_LEVELS: dict[str, int] = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_KEPT_LEVEL = _LEVELS["info"]
MAX_LOGS_KEPT = 10_000


@dataclass
class RunState:
    """Everything one run shares between its context, the runner and the result."""

    script: str
    scope: RecordScope
    connection: Connection
    api: ApiClient
    store: RecordStore
    metadata: dict[str, Any]
    save_metadata: Callable[[dict[str, Any]], Awaitable[None]]
    strict_validation: bool = False
    log_level: str = "info"
    on_log: Callable[[LogRecord], None] | None = None
    logs: deque[LogRecord] = field(default_factory=lambda: deque(maxlen=MAX_LOGS_KEPT))
    """What ``RunResult.logs`` shows: info and above, the last ``MAX_LOGS_KEPT``. Debug
    lines (one per HTTP request) go to ``on_log`` only, so a long run's memory stays flat."""
    counts: dict[str, ModelCounts] = field(default_factory=dict)
    invalid: list[InvalidRecord] = field(default_factory=list)
    max_invalid_kept: int = 1000
    ledger: Ledger = field(default_factory=Ledger)
    run_id: str | None = None
    """The store's id for this run (``start_run``), when the store tracks runs."""
    writes: RunWrites | None = None
    """A sync run's writer: its records, deletes and checkpoints, in order."""

    def check_writes(self) -> None:
        """Fail the script's call if one of its earlier writes failed."""
        if self.writes is not None:
            self.writes.check()

    async def settled(self) -> None:
        """Everything written so far is committed: what a read or a metadata change waits for."""
        if self.writes is not None:
            await self.writes.flush()

    def log(self, level: str, message: str, fields: Mapping[str, Any]) -> None:
        if level not in _LEVELS:
            raise ScriptRunError(
                f"nango.log(): unknown level {level!r}; use one of {', '.join(_LEVELS)}."
            )
        if _LEVELS[level] < _LEVELS[self.log_level]:
            return
        record = LogRecord(datetime.now(UTC), level, message, dict(fields))  # type: ignore[arg-type]
        if _LEVELS[level] >= _KEPT_LEVEL:
            self.logs.append(record)
        if self.on_log is not None:
            self.on_log(record)

    def model_counts(self, model: str) -> ModelCounts:
        return self.counts.setdefault(model, ModelCounts())


class NangoAction:
    """The context of an action (and the base of ``NangoSync``)."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    @property
    def _ledger(self) -> Ledger:
        return self._state.ledger

    @property
    def connection_id(self) -> str:
        return self._state.scope.connection_id

    @property
    def provider_config_key(self) -> str:
        """The integration id, as Nango calls it."""
        return self._state.scope.integration_id

    # --- HTTP -------------------------------------------------------------------------

    @must_await
    async def proxy(
        self, method: str, endpoint: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """A request to the integration's API with the connection's credentials."""
        self._state.check_writes()
        return await self._state.api.request(method, endpoint, **options)

    @must_await
    async def get(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.proxy("GET", endpoint, **options)

    @must_await
    async def post(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.proxy("POST", endpoint, **options)

    @must_await
    async def put(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.proxy("PUT", endpoint, **options)

    @must_await
    async def patch(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.proxy("PATCH", endpoint, **options)

    @must_await
    async def delete(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.proxy("DELETE", endpoint, **options)

    def paginate(self, endpoint: str, **options: Unpack[PageOptions]) -> AsyncIterator[list[Any]]:
        """Pages of items (lists), following the integration's pagination."""
        pages = self._state.api.paginate(endpoint, **options)
        if self._state.writes is None:
            return pages
        return _checked_pages(pages, self._state)

    # --- connection and metadata --------------------------------------------------------

    @must_await
    async def get_connection(self) -> Connection:
        return self._state.connection

    @must_await
    async def get_metadata(self) -> dict[str, Any]:
        return copy.deepcopy(self._state.metadata)

    @must_await
    async def set_metadata(self, metadata: Mapping[str, Any]) -> None:
        self._state.metadata = copy.deepcopy(dict(metadata))
        await self._state.settled()
        await self._state.save_metadata(self._state.metadata)

    @must_await
    async def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Merge ``metadata`` into the connection's (top-level keys replace), as Nango does."""
        self._state.metadata = {**self._state.metadata, **copy.deepcopy(dict(metadata))}
        await self._state.settled()
        await self._state.save_metadata(self._state.metadata)

    # --- logging ------------------------------------------------------------------------

    def log(self, message: Any, level: str = "info", **fields: Any) -> None:
        """A line in the run's log (and, with ``serve``, the Activity log)."""
        self._state.log(level, str(message), fields)


class NangoSync(NangoAction):
    """The context of a sync: ``NangoAction`` plus records and checkpoints."""

    def __init__(self, state: RunState, spec: SyncSpec, last_sync_date: datetime | None) -> None:
        super().__init__(state)
        self._spec = spec
        self.last_sync_date = last_sync_date
        """Start of the last successful run, or None (first run, or ``--full``)."""

    def _model_name(self, model: type[BaseModel] | str) -> str:
        name = model if isinstance(model, str) else model.__name__
        if self._spec.model(name) is None:
            declared = ", ".join(m.__name__ for m in self._spec.models)
            raise ScriptRunError(
                f'sync "{self._spec.name}" wrote model {name}, which it does not declare '
                f"(it declares: {declared}). Add it to @sync(models=[...])."
            )
        return name

    def _declared(self, model: type[BaseModel] | str) -> type[BaseModel]:
        found = self._spec.model(self._model_name(model))
        assert found is not None
        return found

    def _report_invalid(self, model: str, invalid: list[InvalidRecord]) -> None:
        state = self._state
        state.model_counts(model).invalid += len(invalid)
        for bad in invalid:
            if len(state.invalid) < state.max_invalid_kept:
                state.invalid.append(bad)
            state.log(
                "warning",
                f"invalid {model} record {bad.record_id!r}: {bad.field}: {bad.reason}",
                {"model": model, "record_id": bad.record_id, "field": bad.field},
            )
        if state.strict_validation:
            first = invalid[0]
            raise RecordValidationError(
                f"{len(invalid)} invalid {model} record(s); first: id {first.record_id!r}, "
                f"field {first.field}: {first.reason}",
                hint="Without --validate, invalid records are reported and skipped.",
            )

    async def _write(self, call: Callable[[], T], then: Callable[[T], None]) -> None:
        """``call`` on the run's writer (in order, committed in groups); ``then`` gets its
        result once committed."""
        writes = self._state.writes
        if writes is None:
            then(await blocking(call))
        else:
            await writes.submit(call, then)

    @must_await
    async def batch_save(self, records: Sequence[Any], model: type[BaseModel] | str) -> bool:
        """Validate ``records`` against ``model`` and save the valid ones.

        The save itself is the run's writer's: it returns once the records are queued,
        and a failed write fails the script's next call (or the run's end)."""
        self._state.check_writes()
        declared = self._declared(model)
        name = declared.__name__
        valid, invalid = validate_batch(declared, records)
        if invalid:
            self._report_invalid(name, invalid)
        if valid:
            counts = self._state.model_counts(name)
            counts.saved += len(valid)

            def saved(result: BatchResult) -> None:
                counts.added += len(result.added)
                counts.updated += len(result.updated)
                counts.unchanged += len(result.unchanged)

            state = self._state
            # Dump, canonical JSON and hash here: CPU work that would hold the GIL on the
            # writer's thread, where only SQL (which releases it) is left to run.
            prepare = getattr(state.store, "prepare_records", None)
            if prepare is not None and state.writes is not None:
                await state.writes.save(
                    name,
                    prepare(valid),
                    functools.partial(
                        state.store.save_records, state.scope, name, run_id=state.run_id
                    ),
                    saved,
                )
            else:
                await self._write(
                    functools.partial(
                        state.store.save_records, state.scope, name, valid, run_id=state.run_id
                    ),
                    saved,
                )
        return not invalid

    @must_await
    async def batch_update(
        self, records: Sequence[Mapping[str, Any] | BaseModel], model: type[BaseModel] | str
    ) -> bool:
        """Deep-merge partial records (each with its ``id``) into the stored ones.

        Every key must be a field of ``model`` and every value must fit it.
        """
        self._state.check_writes()
        declared = self._declared(model)
        name = declared.__name__
        partial: list[dict[str, Any]] = []
        invalid: list[InvalidRecord] = []
        for raw in records:
            item, problem = validate_partial(declared, raw)
            if problem is not None:
                invalid.append(problem)
            elif item is not None:
                partial.append(item)
        if invalid:
            self._report_invalid(name, invalid)
        if partial:

            def updated(result: BatchResult) -> None:
                self._state.model_counts(name).updated += len(result.updated)
                self._warn_unknown("update", name, result.unknown)

            state = self._state
            await self._write(
                functools.partial(state.store.update_records, state.scope, name, partial), updated
            )
        return not invalid

    @must_await
    async def batch_delete(
        self,
        records: Sequence[Mapping[str, Any] | BaseModel | str | int],
        model: type[BaseModel] | str,
    ) -> bool:
        """Soft-delete records, given as records (with ``id``) or as ids."""
        self._state.check_writes()
        name = self._model_name(model)
        ids: list[str] = []
        for raw in records:
            if isinstance(raw, BaseModel):
                raw = raw.__dict__
            rid = raw.get("id") if isinstance(raw, Mapping) else raw
            if rid is None:
                self._report_invalid(
                    name, [InvalidRecord(name, None, "id", "a record to delete needs its id")]
                )
                continue
            ids.append(str(rid))
        if ids:

            def deleted(result: BatchResult) -> None:
                self._state.model_counts(name).deleted += len(result.deleted)
                self._warn_unknown("delete", name, result.unknown)

            state = self._state
            await self._write(
                functools.partial(state.store.delete_records, state.scope, name, ids), deleted
            )
        return True

    def _warn_unknown(self, what: str, model: str, unknown: list[str]) -> None:
        if unknown:
            shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            self._state.log(
                "warning",
                f"batch_{what}: {len(unknown)} unknown {model} id(s), left alone: {shown}",
                {"model": model, "unknown_ids": unknown[:100]},
            )

    @must_await
    async def get_records_by_ids(
        self, ids: Sequence[str | int], model: type[BaseModel] | str
    ) -> list[dict[str, Any]]:
        name = self._model_name(model)
        await self._state.settled()
        return await blocking(
            self._state.store.get_records_by_ids, self._state.scope, name, [str(i) for i in ids]
        )

    # --- checkpoints --------------------------------------------------------------------

    @must_await
    async def get_checkpoint(self) -> dict[str, Any] | None:
        await self._state.settled()
        return await blocking(self._state.store.get_checkpoint, self._state.scope, self._spec.name)

    @must_await
    async def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        """Save a flat dict that survives failed runs, so the next run can resume.

        It is written after the records saved before it and in the same transaction
        as the last of them: a checkpoint never covers records that were not stored."""
        self._state.check_writes()
        for key, value in checkpoint.items():
            if not isinstance(value, str | int | float | bool) and value is not None:
                raise ScriptRunError(
                    f"save_checkpoint: value of {key!r} is a {type(value).__name__}; a checkpoint "
                    "is a flat dict of strings, numbers, booleans and None."
                )
        state = self._state
        await self._write(
            functools.partial(
                state.store.save_checkpoint, state.scope, self._spec.name, dict(checkpoint)
            ),
            _ignore,
        )

    @must_await
    async def clear_checkpoint(self) -> None:
        self._state.check_writes()
        state = self._state
        await self._write(
            functools.partial(state.store.clear_checkpoint, state.scope, self._spec.name), _ignore
        )


def _ignore(_: object) -> None:
    return None


async def _checked_pages(
    pages: AsyncIterator[list[Any]], state: RunState
) -> AsyncIterator[list[Any]]:
    """``pages``, failing at the next page once one of the run's writes has failed."""
    async for page in pages:
        state.check_writes()
        yield page
    state.check_writes()
