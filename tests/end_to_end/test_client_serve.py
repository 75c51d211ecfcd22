"""Both clients against ``nango-scripts serve`` in a subprocess, over loopback."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.fakeapi import FakeApi, Received
from support.server_harness import (
    API_KEY,
    SECRET,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)

from nango_scripts.client import (
    ActionFailedError,
    AsyncNango,
    Nango,
    NangoAuthError,
    NangoNotFoundError,
)


def _items(request: Received) -> tuple[int, dict[str, str], Any]:
    if request.headers.get("x-key") != API_KEY:
        return 401, {}, {"message": "bad key"}
    return 200, {}, [{"id": str(i), "n": i} for i in range(5)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("serve")
    with FakeApi() as api:
        api.route("/items", _items)
        api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query['name']}"}))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NANGO_SCRIPTS_", "NANGO_SECRET", "NANGO_HOST"))
        }
        env.update(make_project(tmp_path, api))
        env["NANGO_SECRET_KEY"] = SECRET
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = tmp_path / "serve.log"
        process = serve(env, port, log)
        try:
            wait_healthy(url, process, log)
            yield url
        finally:
            stop(process, log)
        assert not api.errors, api.errors


def test_the_blocking_client_over_loopback(served: str) -> None:
    with Nango(secret_key=SECRET, host=served) as nango:
        created = nango.import_connection(
            "fake", "c1", {"type": "API_KEY", "apiKey": API_KEY}, metadata={"team": "a"}
        )
        assert created.credentials == {"type": "API_KEY", "apiKey": API_KEY}
        nango.trigger_sync("fake", ["items"], "c1")
        status = poll_finished(nango)
        assert status["record_count"] == {"Item": 5}
        ids = [r["id"] for r in nango.iter_records("fake", "c1", "Item", limit=2)]
        assert ids == ["0", "1", "2", "3", "4"]
        assert nango.trigger_action("fake", "c1", "greet", {"name": "ada"}) == {"text": "hello ada"}
        with pytest.raises(ActionFailedError) as caught:
            nango.trigger_action("fake", "c1", "greet", {"name": "nobody"})
        assert caught.value.payload == {"message": "nobody to greet", "code": "empty"}
        assert nango.get_metadata("fake", "c1") == {"team": "a"}
        assert nango.get("/items", "fake", "c1").json()[0] == {"id": "0", "n": 0}
    stranger = Nango(secret_key="not the key", host=served)
    with stranger, pytest.raises(NangoAuthError):
        stranger.list_integrations()


def poll_finished(nango: Nango) -> dict[str, Any]:
    for _ in range(500):
        [status] = nango.sync_status("fake", ["items"], "c1")
        if status.status != "RUNNING" and status.finished_at is not None:
            return status.model_dump()
        time.sleep(0.02)
    raise AssertionError("the sync never finished")


@pytest.mark.anyio
async def test_the_async_client_over_loopback(served: str) -> None:
    async with AsyncNango(secret_key=SECRET, host=served) as nango:
        await nango.import_connection("fake", "c2", {"type": "API_KEY", "apiKey": API_KEY})
        handle = await nango.trigger_action_async("fake", "c2", "greet", {"name": "bo"})
        assert await nango.wait_for_async_action(handle, poll_interval=0.02) == {"text": "hello bo"}
        await nango.delete_connection("fake", "c2")
        with pytest.raises(NangoNotFoundError):
            await nango.get_connection("fake", "c2")


def test_key_and_host_from_the_environment(served: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NANGO_SECRET_KEY", SECRET)
    monkeypatch.setenv("NANGO_HOST", served)
    with Nango() as nango:
        assert "fake" in [i.unique_key for i in nango.list_integrations()]
