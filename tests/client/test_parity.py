"""The blocking and the async client: the same methods, the same answers."""

from __future__ import annotations

import inspect
from typing import Any

import anyio.to_thread
import pytest
from support.server_harness import Harness

from nango_scripts.client import (
    ActionFailedError,
    AsyncNango,
    Nango,
    NangoAPIError,
    NangoBadRequestError,
    NangoNotFoundError,
)

NOT_AWAITED = {"iter_records", "verify_webhook"}
ONLY_SYNC = {"close"}
ONLY_ASYNC = {"aclose"}


def public(cls: type) -> dict[str, Any]:
    return {n: getattr(cls, n) for n in dir(cls) if not n.startswith("_")}


def test_the_same_methods_and_signatures() -> None:
    blocking, awaited = public(Nango), public(AsyncNango)
    assert set(blocking) - ONLY_SYNC == set(awaited) - ONLY_ASYNC
    for name in sorted(set(blocking) - ONLY_SYNC):
        sync_method, async_method = blocking[name], awaited[name]
        if not callable(sync_method):
            continue
        sync_params = inspect.signature(sync_method).parameters
        async_params = inspect.signature(async_method).parameters
        assert list(sync_params.items()) == list(async_params.items()), name
        assert not inspect.iscoroutinefunction(sync_method), name
        assert inspect.iscoroutinefunction(async_method) == (name not in NOT_AWAITED), name


def error_of(call: Any) -> tuple[str, str, Any]:
    try:
        call()
    except NangoAPIError as exc:
        return type(exc).__name__, exc.code, exc.payload
    raise AssertionError("no error")


async def aerror_of(call: Any) -> tuple[str, str, Any]:
    try:
        await call()
    except NangoAPIError as exc:
        return type(exc).__name__, exc.code, exc.payload
    raise AssertionError("no error")


CLOCK = {"last_fetched_at", "last_deployed"}  # the time of the request


def without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_clock(v) for k, v in value.items() if k not in CLOCK}
    if isinstance(value, list):
        return [without_clock(v) for v in value]
    return value


def blocking_tour(nango: Nango) -> dict[str, Any]:
    handle = nango.trigger_action_async("fake", "c1", "greet", {"name": "bo"})
    return {
        "page": nango.list_records("fake", "c1", "Item", limit=2).model_dump(),
        "all": list(nango.iter_records("fake", "c1", "Item", limit=2)),
        "status": [s.model_dump() for s in nango.sync_status("fake", "*", "c1")],
        "connections": [c.model_dump() for c in nango.list_connections()],
        "connection": without_clock(nango.get_connection("fake", "c1").model_dump()),
        "metadata": nango.get_metadata("fake", "c1"),
        "integrations": [i.model_dump() for i in nango.list_integrations()],
        "scripts": without_clock(nango.get_scripts_config()),
        "action": nango.trigger_action("fake", "c1", "greet", {"name": "ada", "times": 2}),
        "async_action": nango.wait_for_async_action(handle, poll_interval=0.01),
        "proxy": nango.get("/items", "fake", "c1").json(),
        "failed": error_of(lambda: nango.trigger_action("fake", "c1", "greet", {"name": "nobody"})),
        "missing": error_of(lambda: nango.get_connection("fake", "ghost")),
        "bad": error_of(lambda: nango.list_records("fake", "ghost", "Item")),
    }


async def async_tour(nango: AsyncNango) -> dict[str, Any]:
    handle = await nango.trigger_action_async("fake", "c1", "greet", {"name": "bo"})
    return {
        "page": (await nango.list_records("fake", "c1", "Item", limit=2)).model_dump(),
        "all": [r async for r in nango.iter_records("fake", "c1", "Item", limit=2)],
        "status": [s.model_dump() for s in await nango.sync_status("fake", "*", "c1")],
        "connections": [c.model_dump() for c in await nango.list_connections()],
        "connection": without_clock((await nango.get_connection("fake", "c1")).model_dump()),
        "metadata": await nango.get_metadata("fake", "c1"),
        "integrations": [i.model_dump() for i in await nango.list_integrations()],
        "scripts": without_clock(await nango.get_scripts_config()),
        "action": await nango.trigger_action("fake", "c1", "greet", {"name": "ada", "times": 2}),
        "async_action": await nango.wait_for_async_action(handle, poll_interval=0.01),
        "proxy": (await nango.get("/items", "fake", "c1")).json(),
        "failed": await aerror_of(
            lambda: nango.trigger_action("fake", "c1", "greet", {"name": "nobody"})
        ),
        "missing": await aerror_of(lambda: nango.get_connection("fake", "ghost")),
        "bad": await aerror_of(lambda: nango.list_records("fake", "ghost", "Item")),
    }


@pytest.mark.anyio
async def test_the_same_answers(harness: Harness, anango: AsyncNango, nango: Nango) -> None:
    await harness.run_items()
    await anango.update_metadata("fake", "c1", {"seen": True})
    blocking = await anyio.to_thread.run_sync(blocking_tour, nango)
    awaited = await async_tour(anango)
    assert blocking == awaited
    assert len(blocking["all"]) == 5
    assert blocking["metadata"] == {"team": "a", "seen": True}
    assert blocking["async_action"] == {"text": "hello bo"}
    assert blocking["failed"][:2] == (ActionFailedError.__name__, "action_script_failure")
    assert blocking["missing"][:2] == (NangoNotFoundError.__name__, "not_found")
    assert blocking["bad"][:2] == (NangoBadRequestError.__name__, "unknown_connection")
