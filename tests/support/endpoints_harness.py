"""A running ``serve`` (subprocess) over the server harness's project plus a two-model
sync declaring its endpoint, with one connection whose syncs have run: the generated
endpoint tests and the API reference's browser test share it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fakeapi import FakeApi
from support.server_harness import (
    API_KEY,
    SECRET,
    _items,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)

__all__ = ["Api", "api"]


PAIRS_SYNC = """
from pydantic import BaseModel
from nango_scripts import NangoSync, sync


class Left(BaseModel):
    id: str
    side: str


class Right(BaseModel):
    id: str
    weight: int


@sync(models=[Left, Right], frequency="every hour", auto_start=False,
      endpoints=[{"method": "GET", "path": "/pairs", "group": "Pairs"}])
async def pairs(nango: NangoSync) -> None:
    await nango.batch_save([Left(id=str(i), side="l") for i in range(3)], Left)
    await nango.batch_save([Right(id=str(i), weight=i) for i in range(2)], Right)
"""


class Api:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=15
        )

    def get(
        self, path: str, connection: str = "c1", integration: str = "fake", **params: Any
    ) -> httpx.Response:
        headers = {"Connection-Id": connection, "Provider-Config-Key": integration}
        return self.client.get(path, params=params, headers=headers)

    def run(self, sync: str) -> None:
        answer = self.client.post(
            "/sync/trigger",
            json={"syncs": [sync], "provider_config_key": "fake", "connection_id": "c1"},
        )
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = self.client.get(
                "/sync/status",
                params={"syncs": sync, "provider_config_key": "fake", "connection_id": "c1"},
            ).json()["syncs"][0]
            if status["latestExecutionStatus"] == "SUCCESS" and status["finishedAt"]:
                return
            time.sleep(0.05)
        raise AssertionError(f"{sync} did not finish: {status}")


@pytest.fixture
def api(tmp_path: Path, fake_api: FakeApi) -> Iterator[Api]:
    fake_api.route("/items", _items)
    fake_api.route("/hello", lambda r: (200, {}, {"text": f"hi {r.query.get('name')}"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    env.update(make_project(tmp_path, fake_api), NANGO_SECRET_KEY=SECRET)
    (Path(env["NANGO_SCRIPTS_PROJECT"]) / "fake" / "syncs" / "pairs.py").write_text(PAIRS_SYNC)
    port = free_port()
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        client = Api(f"http://127.0.0.1:{port}")
    except BaseException:
        stop(process, log)
        raise
    try:
        made = client.client.post(
            "/connections",
            json={
                "provider_config_key": "fake",
                "connection_id": "c1",
                "credentials": {"type": "API_KEY", "apiKey": API_KEY},
            },
        )
        assert made.status_code == 201, made.text
        client.run("items")
        client.run("pairs")
        yield client
    finally:
        client.client.close()
        if process.poll() is None:
            stop(process, log)
