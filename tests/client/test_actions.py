"""Actions: run now, run in the background and fetch the result, and how they fail."""

from __future__ import annotations

import uuid

import pytest
from pydantic import BaseModel
from support.server_harness import Harness

from nango_scripts.client import (
    ActionFailedError,
    ActionPendingError,
    AsyncActionHandle,
    AsyncNango,
    NangoAPIError,
    NangoBadRequestError,
    NangoNotFoundError,
)

pytestmark = pytest.mark.anyio

NOBODY = {"message": "nobody to greet", "code": "empty"}


class Greeting(BaseModel):
    name: str
    times: int = 1


async def test_trigger_action_returns_the_output(harness: Harness, anango: AsyncNango) -> None:
    output = await anango.trigger_action("fake", "c1", "greet", {"name": "ada", "times": 2})
    assert output == {"text": "hello adahello ada"}
    assert await anango.trigger_action("fake", "c1", "greet", Greeting(name="bo")) == {
        "text": "hello bo"
    }
    assert await anango.trigger_action("fake", "c1", "ping") == ["pong", 1]


async def test_a_failing_action_carries_its_payload(harness: Harness, anango: AsyncNango) -> None:
    with pytest.raises(ActionFailedError) as caught:
        await anango.trigger_action("fake", "c1", "greet", {"name": "nobody"})
    error = caught.value
    assert isinstance(error, NangoAPIError)
    assert (error.status, error.code, error.payload) == (500, "action_script_failure", NOBODY)
    assert error.message is not None
    assert error.message.startswith("The action script failed with an error")


async def test_bad_input_and_unknown_action(harness: Harness, anango: AsyncNango) -> None:
    with pytest.raises(NangoBadRequestError) as bad:
        await anango.trigger_action("fake", "c1", "greet", {"times": "x"})
    assert bad.value.code == "invalid_action_input"
    assert bad.value.errors is not None
    assert {tuple(e["path"]) for e in bad.value.errors} == {("input", "name"), ("input", "times")}
    with pytest.raises(NangoNotFoundError) as missing:
        await anango.trigger_action("fake", "c1", "nope")
    assert missing.value.code == "not_found"
    with pytest.raises(NangoBadRequestError) as ghost:
        await anango.trigger_action("fake", "ghost", "ping")
    assert ghost.value.code == "unknown_connection"


async def test_async_action_then_its_result(harness: Harness, anango: AsyncNango) -> None:
    handle = await anango.trigger_action_async("fake", "c1", "greet", {"name": "ada"})
    assert isinstance(handle, AsyncActionHandle)
    assert handle.status_url == f"/action/{handle.id}"
    output = await anango.wait_for_async_action(handle, poll_interval=0.01)
    assert output == {"text": "hello ada"}
    # read again, by id and by status URL (absolute or host-relative)
    assert await anango.get_async_action_result(handle.id) == output
    assert await anango.get_async_action_result(handle.status_url) == output
    assert await anango.get_async_action_result(anango.host + handle.status_url) == output


async def test_pending_until_done(harness: Harness, anango: AsyncNango) -> None:
    handle = await anango.trigger_action_async("fake", "c1", "slow")
    with pytest.raises(ActionPendingError) as pending:
        await anango.get_async_action_result(handle)
    assert isinstance(pending.value, NangoNotFoundError)
    assert pending.value.payload == {"status": "running"}
    with pytest.raises(ActionPendingError):
        await anango.wait_for_async_action(handle, max_wait=0.05, poll_interval=0.01)
    harness.release_slow.set()
    assert await anango.wait_for_async_action(handle, poll_interval=0.01) == {"slow": "done"}


async def test_async_failure_and_unknown_id(harness: Harness, anango: AsyncNango) -> None:
    handle = await anango.trigger_action_async("fake", "c1", "greet", {"name": "nobody"})
    with pytest.raises(ActionFailedError) as caught:
        await anango.wait_for_async_action(handle, poll_interval=0.01)
    assert caught.value.payload == NOBODY
    with pytest.raises(NangoNotFoundError) as missing:
        await anango.get_async_action_result(str(uuid.uuid4()))
    assert not isinstance(missing.value, ActionPendingError)
    assert missing.value.code == "not_found"
    with pytest.raises(ValueError, match="not a status URL"):
        await anango.get_async_action_result("https://elsewhere.example/action/1")
