"""A connection's webhook URL override set over the HTTP API of a real ``nango-scripts
serve``: its runs' webhooks go to the override alone (it replaces the environment's
primary and secondary URLs), and removing it sends them back there."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.serve_process import start_serve, stop_serve
from support.waiting import eventually
from support.webhook_receiver import Receiver

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore, OutboxItem, WebhookOutbox

SECRET = "sk_test_override"

TICKER = """
import time

from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Tick(BaseModel):
    id: str
    at: int


@sync(models=[Tick], frequency="every hour", auto_start=False)
async def ticker(nango: NangoSync) -> None:
    await nango.batch_save([Tick(id="t", at=time.time_ns())], Tick)
"""


class Serve:
    """``nango-scripts serve`` on a free port, and an httpx client with the key."""

    def __init__(self, tmp_path: Path, environment_receiver: Receiver) -> None:
        root = tmp_path / "proj"
        (root / "fake" / "syncs").mkdir(parents=True)
        (root / "fake" / "syncs" / "ticker.py").write_text(TICKER)
        (root / "nango.toml").write_text(
            '[integrations.fake]\nbase_url = "http://127.0.0.1:9"\n\n'
            f'[webhooks]\nurl = "{environment_receiver.url("/primary")}"\n'
            f'secondary_url = "{environment_receiver.url("/secondary")}"\n'
        )
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("NANGO_", "NANGO_SCRIPTS_"))
        } | {
            "NANGO_SCRIPTS_PROJECT": str(root),
            "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
            "NANGO_SECRET_KEY": SECRET,
        }
        self.settings = load_settings(root, self.env)
        with ConnectionStore.open(self.settings) as connections:
            connections.create("fake", "c1", {})
        self.log = tmp_path / "serve.log"
        self.process, self.port = start_serve(self.env, self.log)
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {SECRET}"},
            timeout=10,
        )

    def stop(self) -> None:
        self.http.close()
        stop_serve(self.process)

    def outbox(self) -> list[OutboxItem]:
        with WebhookOutbox.open(self.settings.database_url) as outbox:
            return outbox.items()

    def patch_override(self, url: str | None) -> None:
        answer = self.http.patch(
            "/connections/c1",
            params={"provider_config_key": "fake"},
            json={"webhook_url_override": url},
        )
        assert (answer.status_code, answer.json()) == (200, {"success": True}), answer.text

    def override(self) -> Any:
        got = self.http.get("/connections/c1", params={"provider_config_key": "fake"})
        assert got.status_code == 200, got.text
        return got.json()["webhook_url_override"]

    def run_ticker(self) -> list[OutboxItem]:
        """Trigger a run over the API; the outbox rows it wrote."""
        before = {row.id for row in self.outbox()}
        answer = self.http.post(
            "/sync/trigger",
            json={"syncs": ["ticker"], "provider_config_key": "fake", "connection_id": "c1"},
        )
        assert answer.status_code == 200, answer.text
        eventually(lambda: len(self.outbox()) > len(before), "the run's webhooks")
        return [row for row in self.outbox() if row.id not in before]


@pytest.fixture
def environment_receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def serve(tmp_path: Path, environment_receiver: Receiver) -> Iterator[Serve]:
    started = Serve(tmp_path, environment_receiver)
    try:
        yield started
    finally:
        started.stop()


def paths(receiver: Receiver) -> list[str]:
    return sorted(d.path for d in receiver.accepted())


def test_the_override_replaces_the_environments_urls_until_removed(
    serve: Serve, environment_receiver: Receiver
) -> None:
    first = serve.run_ticker()
    environment_receiver.wait_for(2)
    assert paths(environment_receiver) == ["/primary", "/secondary"]
    assert sorted(row.url for row in first) == [
        environment_receiver.url("/primary"),
        environment_receiver.url("/secondary"),
    ]

    with Receiver() as mine:
        serve.patch_override(mine.url("/mine"))
        assert serve.override() == mine.url("/mine")
        overridden = serve.run_ticker()
        mine.wait_for(1)
        assert [row.url for row in overridden] == [mine.url("/mine")]  # one row: no others
        [delivery] = mine.accepted()
        assert delivery.path == "/mine"
        assert delivery.id == overridden[0].id
        assert delivery.json()["connectionId"] == "c1"
        assert delivery.json()["responseResults"] == {"added": 0, "updated": 1, "deleted": 0}

        serve.patch_override(None)
        assert serve.override() is None
        back = serve.run_ticker()
        environment_receiver.wait_for(4)
        assert sorted(row.url for row in back) == [
            environment_receiver.url("/primary"),
            environment_receiver.url("/secondary"),
        ]
        eventually(lambda: {r.status for r in serve.outbox()} == {"delivered"}, "all delivered")
        assert len(mine.all()) == 1  # nothing more went to the removed override
    assert paths(environment_receiver) == ["/primary", "/primary", "/secondary", "/secondary"]


def test_a_bad_override_is_refused_over_http(serve: Serve) -> None:
    answer = serve.http.patch(
        "/connections/c1",
        params={"provider_config_key": "fake"},
        json={"webhook_url_override": "ftp://files.example.com/in"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_body"
    assert answer.json()["error"]["message"].startswith("webhook_url_override must start with")
    assert serve.override() is None
