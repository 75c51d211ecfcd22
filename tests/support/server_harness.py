"""The service in-process: a real project, a real SQLite database, the fake API on
127.0.0.1, and an httpx client speaking to the ASGI app (the service started by hand,
as the lifespan would)."""

from __future__ import annotations

import asyncio
import base64
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nango_scripts.engine import Service
from nango_scripts.server import create_app
from nango_scripts.settings import load_settings
from nango_scripts.store import ScheduleKey
from support.fakeapi import FakeApi, Received
from support.waiting import eventually_async

SECRET = "sk_test_server_0123456789"
API_KEY = "upstream-key"

NANGO_TOML = """
[integrations.fake]
base_url = "http://127.0.0.1:9"
auth = "api_key"
api_key_header = "X-Key"
api_key_format = "{api_key}"

[integrations.other]
base_url = "http://127.0.0.1:9"

[integrations.oauthy]
base_url = "http://127.0.0.1:9"
auth = "oauth2"
token_url = "http://127.0.0.1:9/token"
"""

MODELS = """
from pydantic import BaseModel, Field


class Item(BaseModel):
    id: str
    n: int


class Greeting(BaseModel):
    name: str
    # bounded: the schema tests generate inputs, and greet repeats its text this many times
    times: int = Field(1, ge=0, le=100)


class Reply(BaseModel):
    text: str
"""

ITEMS_SYNC = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", auto_start=False, description="All items")
async def items(nango: NangoSync) -> None:
    response = await nango.get("/items")
    await nango.batch_save(response.json(), Item)
"""

ACTIONS = """
from nango_scripts import ActionError, NangoAction, action

from fake.models import Greeting, Reply


@action(input=Greeting, output=Reply, description="Say hello")
async def greet(nango: NangoAction, input: Greeting) -> Reply:
    if input.name == "nobody":
        raise ActionError({"message": "nobody to greet", "code": "empty"})
    response = await nango.get("/hello", params={"name": input.name})
    return Reply(text=response.json()["text"] * input.times)


@action()
async def ping(nango: NangoAction) -> list:
    return ["pong", 1]


@action()
async def slow(nango: NangoAction) -> dict:
    response = await nango.get("/slow")
    return response.json()
"""


class Harness:
    def __init__(
        self,
        service: Service,
        client: httpx.AsyncClient,
        api: FakeApi,
        transport: httpx.ASGITransport,
    ) -> None:
        self.service = service
        self.client = client
        self.transport = transport
        self.api = api
        self.release_slow = threading.Event()

    def key(self, sync: str = "items", connection: str = "c1") -> ScheduleKey:
        return ScheduleKey("dev", "fake", connection, sync)

    async def run_items(self, connection: str = "c1") -> None:
        """Trigger the items sync through the API and wait for the run to finish."""
        before = len(
            await asyncio.to_thread(self.service.schedules.runs, self.key(connection=connection))
        )
        answer = await self.client.post(
            "/sync/trigger",
            json={"syncs": ["items"], "provider_config_key": "fake", "connection_id": connection},
        )
        assert answer.status_code == 200, answer.text

        def finished() -> bool:
            runs = self.service.schedules.runs(self.key(connection=connection))
            return len(runs) > before and runs[0].finished_at is not None

        # the scheduler's runs have no event to await; the store is read off the loop
        await eventually_async(
            lambda: asyncio.to_thread(finished), f"a finished run of {connection}"
        )
        await self.service.scheduler.wait_idle()


def make_project(tmp_path: Path, api: FakeApi) -> dict[str, str]:
    root = tmp_path / "proj"
    (root / "fake" / "syncs").mkdir(parents=True)
    (root / "fake" / "actions").mkdir()
    (root / "nango.toml").write_text(NANGO_TOML)
    (root / "fake" / "models.py").write_text(MODELS)
    (root / "fake" / "syncs" / "items.py").write_text(ITEMS_SYNC)
    (root / "fake" / "actions" / "greet.py").write_text(ACTIONS)
    return {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/state/nango.db",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_INTEGRATION_FAKE_BASE_URL": api.url,
    }


def _items(request: Received) -> tuple[int, dict[str, str], Any]:
    if request.headers.get("x-key") != API_KEY:
        return 401, {}, {"message": "bad key"}
    return 200, {}, [{"id": str(i), "n": i} for i in range(5)]


@pytest.fixture
async def harness(tmp_path: Path, fake_api: FakeApi) -> AsyncIterator[Harness]:
    env = make_project(tmp_path, fake_api)
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], {**env, "NANGO_SECRET_KEY": SECRET})
    service = Service.open(settings, tick_s=0.05)
    service.connections.create("fake", "c1", {"type": "API_KEY", "apiKey": API_KEY}, {"team": "a"})
    fake_api.route("/items", _items)
    fake_api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query['name']}"}))
    app = create_app(service)
    await service.start()
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    harness = Harness(service, client, fake_api, transport)

    def slow(_: Received) -> tuple[int, dict[str, str], Any]:
        harness.release_slow.wait(10)
        return 200, {}, {"slow": "done"}

    fake_api.route("/slow", slow)
    try:
        yield harness
    finally:
        harness.release_slow.set()
        await client.aclose()
        await service.stop()


def anonymous(harness: Harness) -> httpx.AsyncClient:
    """A client of the same app that sends no key."""
    return httpx.AsyncClient(transport=harness.transport, base_url="http://testserver")


# -- `nango-scripts serve` as a subprocess -------------------------------------------------

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"
KEY = re.compile(r"nango_sk_[0-9a-f]{64}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"serve never became healthy:\n{log.read_text()}")


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(CONSOLE_SCRIPT), "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM: a graceful shutdown (uvicorn then re-raises the signal, as it should)."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)
    assert code in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()
