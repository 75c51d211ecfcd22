"""run_script with actions: input and output models, ActionError, plain def."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from support.fakeapi import FakeApi

from nango_scripts import ActionError, BlockingNangoAction, NangoAction, action
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import run_script
from nango_scripts.store import Connection, MemoryRecordStore

pytestmark = pytest.mark.anyio


class NewThing(BaseModel):
    title: str
    size: int = 1


class Thing(BaseModel):
    id: str
    title: str


@action(input=NewThing, output=Thing, integration="fake")
async def create_thing(nango: NangoAction, input: NewThing) -> Thing:
    if input.title == "forbidden":
        raise ActionError({"message": "that title is not allowed", "code": "forbidden"})
    response = await nango.post("/things", json=input.model_dump())
    return Thing.model_validate(response.json())


@action(output=Thing, integration="fake")
def plain_get_thing(nango: BlockingNangoAction) -> dict[str, Any]:
    return dict(nango.get("/things/1").json())


async def _run(
    spec: Any, provider: ProviderConfig, connection: Connection, input: Any = None
) -> Any:
    return await run_script(
        spec, connection=connection, provider=provider, store=MemoryRecordStore(), input=input
    )


async def test_action_validates_input_and_returns_dumped_output(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    fake_api.route("/things", lambda r: (201, {}, {"id": "t1", **r.json()}))
    result = await _run(create_thing, provider, connection, {"title": "hello"})
    assert result.success, result.error
    assert result.output == {"id": "t1", "title": "hello"}
    assert fake_api.requests_to("/things")[0].json() == {"title": "hello", "size": 1}


async def test_invalid_input_names_the_field_and_calls_nothing(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    result = await _run(create_thing, provider, connection, {"size": "big"})
    assert result.error is not None and result.error.type == "invalid_input"
    assert "title" in result.error.message and "size" in result.error.message
    assert fake_api.requests == []


async def test_action_error_carries_its_payload(
    provider: ProviderConfig, connection: Connection
) -> None:
    result = await _run(create_thing, provider, connection, {"title": "forbidden"})
    assert not result.success
    assert result.error is not None and result.error.type == "action_error"
    assert result.error.payload == {"message": "that title is not allowed", "code": "forbidden"}


async def test_output_that_does_not_match_the_model_fails(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    fake_api.route("/things/1", lambda r: (200, {}, {"title": "no id"}))
    result = await _run(plain_get_thing, provider, connection)
    assert result.error is not None and result.error.type == "invalid_output"
    assert "id" in result.error.message


async def test_plain_def_action(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    fake_api.route("/things/1", lambda r: (200, {}, {"id": "1", "title": "one", "extra": True}))
    result = await _run(plain_get_thing, provider, connection)
    assert result.success, result.error
    assert result.output == {"id": "1", "title": "one"}


async def test_actions_do_not_retry_by_default(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    fake_api.route("/things", lambda r: (503, {}, {"message": "down"}))
    result = await _run(create_thing, provider, connection, {"title": "x"})
    assert result.error is not None and "503" in result.error.message
    assert len(fake_api.requests_to("/things")) == 1


@action(integration="fake")
async def nested_output(nango: NangoAction) -> Any:
    value: Any = "leaf"
    for _ in range(2000):  # deeper than any reader of the answer could go
        value = [value]
    return value


@action(integration="fake")
async def broken_text_output(nango: NangoAction) -> Any:
    return {"text": "half a pair: \ud83d"}


async def test_output_no_client_could_read_back_is_invalid_output(
    provider: ProviderConfig, connection: Connection
) -> None:
    deep = await _run(nested_output, provider, connection)
    assert deep.error is not None and deep.error.type == "invalid_output", deep.error
    assert "nests deeper than 64 levels" in deep.error.message
    broken = await _run(broken_text_output, provider, connection)
    assert broken.error is not None and broken.error.type == "invalid_output", broken.error
    assert "lone surrogate" in broken.error.message
