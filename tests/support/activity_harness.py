"""The service in-process for Activity log tests: a project whose scripts log, retry, save
invalid records and fail; a real SQLite database; the fake API on 127.0.0.1; and an
httpx client speaking to the ASGI app (the service started by hand, as the lifespan would)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from nango_scripts.engine import Service
from nango_scripts.server import create_app
from nango_scripts.settings import load_settings
from support.fakeapi import FakeApi, Received

SECRET = "sk_test_activity_0123456789"
API_KEY = "apikey-PLANTED-7d1f0c2e9b"
ACCESS_TOKEN = "access-PLANTED-4c8a1e77f0"
REFRESH_TOKEN = "refresh-PLANTED-9e2b5d3a61"
PLANTED = (API_KEY, ACCESS_TOKEN, REFRESH_TOKEN)

NANGO_TOML = """
[integrations.fake]
base_url = "http://127.0.0.1:9"
auth = "api_key"
api_key_header = "X-Key"
api_key_format = "{api_key}"

[integrations.oauthy]
base_url = "http://127.0.0.1:9"
auth = "oauth2"
token_url = "http://127.0.0.1:9/token"
"""

MODELS = """
from pydantic import BaseModel


class Item(BaseModel):
    id: str
    n: int


class Greeting(BaseModel):
    name: str
"""

SYNCS = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", auto_start=False)
async def items(nango: NangoSync) -> None:
    nango.log("fetching items", page=1)
    response = await nango.get("/items")
    await nango.batch_save(response.json(), Item)
    nango.log("saved the items", level="warning")


@sync(models=[Item], frequency="every hour", auto_start=False)
async def broken(nango: NangoSync) -> None:
    await nango.get("/missing", retries=0)


@sync(models=[Item], frequency="every hour", auto_start=False)
async def slow(nango: NangoSync) -> None:
    await nango.get("/slow")


@sync(models=[Item], frequency="every hour", auto_start=False)
async def echo(nango: NangoSync) -> None:
    response = await nango.get("/echo", params={"q": "PLANTED_KEY"})
    nango.log(f"the API said: {response.text}", answer=response.json())
    leaked = await nango.get("/leak")
    nango.log("leaked", level="debug", body=leaked.text, headers=dict(leaked.headers))
    await nango.get("/echo-fail", retries=0)
""".replace("PLANTED_KEY", API_KEY)

# The service's own secret key, read from the environment by a script that logs it,
# sends it to the API and fails with it.
ENVIRON_SYNC = """
import os

from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", auto_start=False)
async def environ(nango: NangoSync) -> None:
    key = os.environ.get("NANGO_SECRET_KEY", "unset")
    nango.log(f"the service key is {key}", key=key, env={"NANGO_SECRET_KEY": key})
    await nango.get("/echo", params={"k": key}, headers={"X-Service": key})
    raise RuntimeError(f"failing with the service key {key}")
"""

ACTIONS = """
from nango_scripts import ActionError, NangoAction, action

from fake.models import Greeting


@action(input=Greeting)
async def greet(nango: NangoAction, input: Greeting) -> dict:
    nango.log(f"greeting {input.name}")
    if input.name == "nobody":
        raise ActionError({"message": "nobody to greet"})
    response = await nango.get("/hello", params={"name": input.name})
    return response.json()
"""

OAUTH_SYNCS = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Thing(BaseModel):
    id: str


@sync(models=[Thing], frequency="every hour", auto_start=False)
async def echo(nango: NangoSync) -> None:
    response = await nango.get("/echo")
    nango.log(f"the API said: {response.text}", answer=response.json())
    leaked = await nango.get("/leak")
    nango.log(leaked.text, level="error")
    await nango.get("/echo-fail", retries=0)
"""


def make_project(tmp_path: Path, api: FakeApi) -> dict[str, str]:
    root = tmp_path / "proj"
    (root / "fake" / "syncs").mkdir(parents=True)
    (root / "fake" / "actions").mkdir()
    (root / "oauthy" / "syncs").mkdir(parents=True)
    (root / "nango.toml").write_text(NANGO_TOML)
    (root / "fake" / "models.py").write_text(MODELS)
    (root / "fake" / "syncs" / "items.py").write_text(SYNCS)
    (root / "fake" / "syncs" / "environ.py").write_text(ENVIRON_SYNC)
    (root / "fake" / "actions" / "greet.py").write_text(ACTIONS)
    (root / "oauthy" / "syncs" / "echo.py").write_text(OAUTH_SYNCS)
    return {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/state/nango.db",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_INTEGRATION_FAKE_BASE_URL": api.url,
        "NANGO_INTEGRATION_OAUTHY_BASE_URL": api.url,
        "NANGO_SECRET_KEY": SECRET,
    }


def flaky_items() -> Callable[[Received], tuple[int, dict[str, str], Any]]:
    """500 (asking for a 50 ms wait) on the first call, then five items and an invalid one."""
    calls = {"n": 0}

    def handler(request: Received) -> tuple[int, dict[str, str], Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            return 500, {"Retry-After": "0.05"}, {"message": "try again"}
        items: list[dict[str, Any]] = [{"id": str(i), "n": i} for i in range(5)]
        return 200, {}, [*items, {"id": "bad", "n": "not a number"}]

    return handler


def echo(request: Received) -> tuple[int, dict[str, str], Any]:
    """Everything the API was sent, secrets included, in the body and the headers."""
    seen = {"headers": request.headers, "query": request.query, "target": request.target}
    return 200, {"X-Echo-Key": request.headers.get("x-key", "")}, seen


def leak(request: Received) -> tuple[int, dict[str, str], Any]:
    """An API that answers with the caller's credentials, in its body and a header."""
    if request.headers.get("x-key") == API_KEY:
        return 200, {"Set-Cookie": f"session={API_KEY}"}, {"tokens": [API_KEY]}
    assert request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"
    return 200, {"Set-Cookie": f"session={ACCESS_TOKEN}"}, {"tokens": [ACCESS_TOKEN, REFRESH_TOKEN]}


def echo_fail(request: Received) -> tuple[int, dict[str, str], Any]:
    return 400, {}, {"error": "refused", "you_sent": request.headers}


class Harness:
    def __init__(self, service: Service, client: httpx.AsyncClient, api: FakeApi) -> None:
        self.service = service
        self.client = client
        self.api = api
        self.release_slow = threading.Event()

    async def trigger(self, sync: str, connection: str = "c1", integration: str = "fake") -> None:
        answer = await self.client.post(
            "/sync/trigger",
            json={"syncs": [sync], "provider_config_key": integration, "connection_id": connection},
        )
        assert answer.status_code == 200, answer.text

    async def finished_operation(self, **query: str) -> dict[str, Any]:
        """The newest finished operation matching ``query``, with its messages."""
        async with asyncio.timeout(10):
            while True:
                answer = await self.client.get(
                    "/logs", params={"state": "success,failed,cancelled", **query}
                )
                assert answer.status_code == 200, answer.text
                operations = answer.json()["operations"]
                if operations:
                    detail = await self.client.get(f"/logs/{operations[0]['id']}")
                    assert detail.status_code == 200, detail.text
                    found: dict[str, Any] = detail.json()
                    return found
                await asyncio.sleep(0.02)


@pytest.fixture
async def harness(tmp_path: Path, fake_api: FakeApi) -> AsyncIterator[Harness]:
    async with open_harness(tmp_path, fake_api) as opened:
        yield opened


@contextlib.asynccontextmanager
async def open_harness(
    tmp_path: Path, fake_api: FakeApi, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Harness]:
    """The service of :func:`make_project`, ``extra_env`` added to its environment."""
    env = {**make_project(tmp_path, fake_api), **(extra_env or {})}
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    service = Service.open(settings, tick_s=0.05)
    service.connections.create("fake", "c1", {"type": "API_KEY", "apiKey": API_KEY})
    service.connections.create("fake", "c2", {"type": "API_KEY", "apiKey": API_KEY})
    expires = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    service.connections.create(
        "oauthy",
        "o1",
        {
            "type": "OAUTH2",
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "expires_at": expires,
            "raw": {"access_token": ACCESS_TOKEN, "token_type": "Bearer"},
        },
    )
    fake_api.route("/items", flaky_items())
    fake_api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query['name']}"}))
    fake_api.route("/echo", echo)
    fake_api.route("/echo-fail", echo_fail)
    fake_api.route("/leak", leak)
    app = create_app(service)
    await service.start()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    harness = Harness(service, client, fake_api)

    def slow(_: Received) -> tuple[int, dict[str, str], Any]:
        harness.release_slow.wait(10)
        return 200, {}, {}

    fake_api.route("/slow", slow)
    try:
        yield harness
    finally:
        harness.release_slow.set()
        await client.aclose()
        await service.stop()
