"""The HTTP verbs take one set of options, the same in the async context, the blocking
context and the HTTP client; a misspelt option fails the run instead of being ignored."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Unpack, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel
from support.fakeapi import FakeApi

from nango_scripts import BlockingNangoSync, NangoSync, sync
from nango_scripts.http import ApiClient
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import BlockingNangoAction, NangoAction, RunResult, run_script
from nango_scripts.store import MemoryRecordStore

from .conftest import make_connection


class Item(BaseModel):
    id: str


VERBS = ("get", "post", "put", "patch", "delete")
REQUEST = {"params", "json", "data", "headers", "retries", "base_url_override"}
"""SPEC.md's options of ``nango.get/post/put/patch/delete/proxy``, with base_url_override."""
PAGES = {"method", "params", "json", "headers", "paginate", "retries"}
"""SPEC.md's options of ``nango.paginate``."""


def accepted(function: Callable[..., Any]) -> tuple[list[str], dict[str, Any]]:
    """The positional parameters (``self`` left out) and the keyword options with their
    types, whether written out or given as ``**options: Unpack[SomeTypedDict]``."""
    hints = get_type_hints(function, include_extras=True)
    positional: list[str] = []
    options: dict[str, Any] = {}
    for parameter in list(inspect.signature(function).parameters.values())[1:]:
        if parameter.kind is parameter.VAR_KEYWORD:
            unpacked = hints[parameter.name]
            assert get_origin(unpacked) is Unpack, f"{function.__qualname__}: {unpacked}"
            [typed_dict] = get_args(unpacked)
            options.update(get_type_hints(typed_dict))
        elif parameter.kind is parameter.KEYWORD_ONLY:
            options[parameter.name] = hints[parameter.name]
        else:
            positional.append(parameter.name)
    return positional, options


def shapes(cls: type) -> dict[str, tuple[list[str], dict[str, Any]]]:
    """What each HTTP method of ``cls`` accepts; the client's ``request`` is ``proxy``."""
    names = {"proxy": "request" if cls is ApiClient else "proxy", "paginate": "paginate"}
    if cls is not ApiClient:
        names.update({verb: verb for verb in VERBS})
    return {shown: accepted(getattr(cls, name)) for shown, name in names.items()}


def test_the_contexts_and_the_client_accept_the_same_options() -> None:
    awaited, blocking, client = shapes(NangoAction), shapes(BlockingNangoAction), shapes(ApiClient)
    assert awaited == blocking
    for name, shape in client.items():
        assert shape == awaited[name], name
    assert awaited["proxy"][0] == ["method", "endpoint"]
    assert awaited["paginate"][0] == ["endpoint"]
    assert set(awaited["proxy"][1]) == REQUEST
    assert set(awaited["paginate"][1]) == PAGES
    for verb in VERBS:
        assert awaited[verb] == (["endpoint"], awaited["proxy"][1]), verb


def test_the_verbs_are_awaitable_in_the_async_context_only() -> None:
    for verb in (*VERBS, "proxy"):
        assert not inspect.iscoroutinefunction(getattr(BlockingNangoAction, verb)), verb
        assert inspect.iscoroutinefunction(inspect.unwrap(getattr(NangoAction, verb))), verb


@sync(models=[Item], frequency="every hour", integration="fake")
async def misspells_params(nango: NangoSync) -> None:
    await nango.get("/items", param={"page": 2})  # type: ignore[call-arg]


@sync(models=[Item], frequency="every hour", integration="fake")
def misspells_params_blocking(nango: BlockingNangoSync) -> None:
    nango.post("/items", jsn={"a": 1})  # type: ignore[call-arg]


@sync(models=[Item], frequency="every hour", integration="fake")
async def misspells_paginate(nango: NangoSync) -> None:
    async for _ in nango.paginate("/items", pagination={"type": "link"}):  # type: ignore[call-arg]
        pass


async def run(spec: Any, provider: ProviderConfig) -> RunResult:
    return await run_script(
        spec, connection=make_connection(), provider=provider, store=MemoryRecordStore()
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("script", "misspelt"),
    [
        (misspells_params, "param"),
        (misspells_params_blocking, "jsn"),
        (misspells_paginate, "pagination"),
    ],
)
async def test_a_misspelt_option_fails_the_run_and_sends_nothing(
    fake_api: FakeApi, script: Any, misspelt: str
) -> None:
    fake_api.route("/items", lambda request: (200, {}, []))
    result = await run(script, ProviderConfig(name="fake", base_url=fake_api.url))
    assert not result.success and result.error is not None
    assert f"TypeError: unexpected keyword argument {misspelt!r}" in result.error.message
    assert "params" in result.error.message  # the options it takes are listed
    assert fake_api.requests_to("/items") == []
