"""Running one script once for one connection: ``run_script`` -> ``RunResult``."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from nango_scripts.dsl import ActionSpec, ScriptSpec, SyncSpec
from nango_scripts.errors import (
    ActionError,
    HttpError,
    NangoScriptsError,
    RecordValidationError,
    ScriptRunError,
    StoreError,
)
from nango_scripts.http import ApiClient
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime._blocking import BlockingNangoAction, BlockingNangoSync
from nango_scripts.runtime._context import NangoAction, NangoSync, RunState
from nango_scripts.runtime._results import LogRecord, RunError, RunResult
from nango_scripts.runtime._writes import RunWrites
from nango_scripts.store import Connection, RecordScope, RecordStore, blocking, json_value_problem

__all__ = ["run_script"]


async def _discard(_: dict[str, Any]) -> None:
    return None


async def run_script(
    spec: ScriptSpec,
    *,
    connection: Connection,
    provider: ProviderConfig,
    store: RecordStore,
    last_sync_date: datetime | None = None,
    input: Any = None,
    metadata: Mapping[str, Any] | None = None,
    save_metadata: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    save_credentials: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    strict_validation: bool = False,
    retries: int | None = None,
    log_level: str = "info",
    on_log: Callable[[LogRecord], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run ``spec`` once for ``connection``; never raises for what the script does.

    - ``metadata`` replaces the connection's metadata for this run (``dryrun --metadata``).
    - ``save_metadata`` persists ``set_metadata``/``update_metadata`` (default: kept in memory).
    - ``save_credentials`` persists credentials after an OAuth2 refresh.
    - ``strict_validation``: an invalid record fails the run (``--validate``).
    - ``retries``: default for requests (3 for syncs, 0 for actions, as Nango does).
    - ``run_id``: the store's id for this run, passed along with every saved batch.
    """
    started_at = datetime.now(UTC)
    scope = RecordScope(connection.environment, connection.integration_id, connection.connection_id)
    state: RunState

    async def on_refreshed(credentials: dict[str, Any]) -> None:
        state.connection = dataclasses.replace(state.connection, credentials=credentials)
        if save_credentials is not None:
            await save_credentials(credentials)
        state.log("info", "access token refreshed", {})

    def http_log(level: str, message: str, fields: Mapping[str, Any]) -> None:
        state.log(level, message, fields)

    default_retries = retries if retries is not None else (3 if spec.kind == "sync" else 0)
    api = ApiClient(
        provider,
        connection.credentials,
        on_credentials_refreshed=on_refreshed,
        retries=default_retries,
        log=http_log,
        transport=transport,
    )
    state = RunState(
        script=spec.name,
        scope=scope,
        connection=connection,
        api=api,
        store=store,
        metadata=dict(metadata if metadata is not None else connection.metadata),
        save_metadata=save_metadata or _discard,
        strict_validation=strict_validation,
        log_level=log_level,
        on_log=on_log,
        run_id=run_id,
    )
    output: Any = None
    error: RunError | None = None
    clock = time.perf_counter()
    try:
        async with api:
            if isinstance(spec, SyncSpec):
                await _run_sync(spec, state, last_sync_date)
            else:
                output = await _run_action(spec, state, input)
    except ActionError as exc:
        error = RunError("action_error", _describe_payload(exc.payload), payload=exc.payload)
    except _InvalidIO as exc:
        error = RunError(exc.kind, str(exc))
    except RecordValidationError as exc:
        error = RunError("validation_error", str(exc))
    except HttpError as exc:
        error = RunError("http_error", str(exc))
    except StoreError as exc:  # the database's failure, not the script's
        error = RunError("server_error", str(exc))
    except NangoScriptsError as exc:
        error = RunError("script_error", str(exc))
    except (Exception, SystemExit) as exc:
        error = RunError(
            "script_error",
            _describe_crash(exc, spec),
            traceback="".join(traceback.format_exception(exc)),
        )
    forgotten = state.ledger.unawaited()
    if forgotten and error is None:
        first = forgotten[0]
        error = RunError(
            "script_error",
            f"{first.call} at {first.where} was never awaited, so it did nothing"
            + (f" (and {len(forgotten) - 1} more such calls)" if len(forgotten) > 1 else "")
            + ". Write `await "
            + first.call.replace("()", "(...)")
            + "`.",
        )
    duration = time.perf_counter() - clock
    if error is not None:
        state.log("error", error.message, {"type": error.type})
    return RunResult(
        script=spec.name,
        integration_id=scope.integration_id,
        connection_id=scope.connection_id,
        kind=spec.kind,
        success=error is None,
        started_at=started_at,
        duration_s=duration,
        models=state.counts,
        invalid_records=state.invalid,
        logs=list(state.logs),
        output=output,
        error=error,
        timings=state.writes.timings() if state.writes is not None else {},
    )


class _InvalidIO(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


async def _run_sync(spec: SyncSpec, state: RunState, last_sync_date: datetime | None) -> None:
    nango = NangoSync(state, spec, last_sync_date)
    if spec.metadata is not None:
        try:
            spec.metadata.model_validate(state.metadata)
        except ValidationError as exc:
            missing = [
                ".".join(str(p) for p in d["loc"])
                for d in exc.errors(include_url=False)
                if d["type"] == "missing"
            ]
            if spec.template is not None and missing:
                # A template's users did not write it: say what to set, before any request.
                raise ScriptRunError(
                    f"connection metadata lacks {', '.join(missing)}, which template "
                    f"{spec.template.provider}/{spec.name} needs "
                    f"({spec.metadata.__name__}: {_short(exc)}). Set it with "
                    "POST /connections/metadata (or nango-scripts dryrun --metadata)."
                ) from None
            state.log(
                "warning",
                f"connection metadata does not match {spec.metadata.__name__}: {_short(exc)}",
                {},
            )
    for model in spec.models:
        state.model_counts(model.__name__)
    loop = asyncio.get_running_loop()
    writes = state.writes = RunWrites(state.store, loop)
    try:
        if spec.is_async:
            returned = await spec.func(nango)
        else:
            returned = await blocking(spec.func, BlockingNangoSync(nango, loop))
            _refuse_awaitable(spec, returned)
    except BaseException:
        writes.abandon()  # what is queued is committed; the script's error is the run's
        raise
    await writes.close()  # every write committed before the run ends, or its failure
    if returned is not None:
        state.log(
            "warning",
            f"sync {spec.name} returned a {type(returned).__name__}, which is ignored: "
            "a sync hands its records over with nango.batch_save().",
            {},
        )


async def _run_action(spec: ActionSpec, state: RunState, raw_input: Any) -> Any:
    nango = NangoAction(state)
    args: list[Any] = []
    if spec.takes_input:
        args.append(_validate_input(spec, raw_input))
    if spec.is_async:
        result = await spec.func(nango, *args)
    else:
        loop = asyncio.get_running_loop()
        result = await blocking(spec.func, BlockingNangoAction(nango, loop), *args)
        _refuse_awaitable(spec, result)
    return _dump_output(spec, result)


def _refuse_awaitable(spec: ScriptSpec, returned: Any) -> None:
    """A ``def`` that returns a coroutine is an ``async def`` hidden by a decorator."""
    if inspect.isawaitable(returned):
        close = getattr(returned, "close", None)
        if close is not None:
            close()
        raise ScriptRunError(
            f'script "{spec.name}" is a plain def that returned {type(returned).__name__}: '
            "it was probably an async def wrapped by a decorator without functools.wraps.",
            hint="Decorate the async function itself, or keep its wrapper async.",
        )


def _validate_input(spec: ActionSpec, raw_input: Any) -> Any:
    if spec.input is None:
        return raw_input
    if isinstance(raw_input, spec.input):
        return raw_input
    try:
        return spec.input.model_validate(raw_input if raw_input is not None else {})
    except ValidationError as exc:
        raise _InvalidIO(
            "invalid_input",
            f'input of action "{spec.name}" does not match {spec.input.__name__}: {_short(exc)}',
        ) from None


def _dump_output(spec: ActionSpec, result: Any) -> Any:
    if spec.output is not None and result is not None:
        try:
            result = spec.output.model_validate(
                result.model_dump()
                if isinstance(result, BaseModel) and not isinstance(result, spec.output)
                else result
            )
        except ValidationError as exc:
            raise _InvalidIO(
                "invalid_output",
                f'action "{spec.name}" returned output that does not match {spec.output.__name__}: {_short(exc)}',
            ) from None
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    problem = json_value_problem(result)  # what no client could read back
    if problem is not None:
        raise _InvalidIO("invalid_output", f'the output of action "{spec.name}" {problem}')
    return result


def _short(exc: ValidationError) -> str:
    parts = []
    for detail in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in detail["loc"]) or "(root)"
        parts.append(f"{where}: {detail['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _describe_payload(payload: Any) -> str:
    if isinstance(payload, str):
        return payload
    if isinstance(payload, Mapping) and "message" in payload:
        return str(payload["message"])
    return f"action failed: {payload!r}"


def _describe_crash(exc: BaseException, spec: ScriptSpec) -> str:
    """``ValueError: boom (at github/syncs/issues.py:12, in issues)``: the script's own frame."""
    where = ""
    source = spec.source_file or Path(spec.func.__code__.co_filename)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename) == source:
            where = f" (at {source.name}:{frame.lineno}, in {frame.name})"
            break
    return f"{type(exc).__name__}: {exc}{where}"
