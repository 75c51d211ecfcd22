"""A small project for CLI tests: a sync, actions, a connection and a local API."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli
from support.fakeapi import FakeApi, Received

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"
API_KEY = "sk_test_dryrun"

NANGO_TOML = """
[integrations.fake]
base_url = "http://127.0.0.1:9"
auth = "api_key"
api_key_header = "X-Key"
api_key_format = "{api_key}"
pagination = { type = "cursor", cursor_path_in_response = "next", cursor_name_in_request = "cursor", response_path = "data" }
"""

MODELS = """
from pydantic import BaseModel


class Item(BaseModel):
    id: str
    n: int


class Greeting(BaseModel):
    name: str


class Reply(BaseModel):
    text: str
"""

ITEMS_SYNC = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour")
async def items(nango: NangoSync) -> None:
    params = {}
    if nango.last_sync_date is not None:
        params["since"] = nango.last_sync_date.isoformat()
    meta = await nango.get_metadata()
    if "only" in meta:
        params["only"] = meta["only"]
    async for page in nango.paginate("/items", params=params):
        await nango.batch_save(page, Item)
    nango.log("finished items")
"""

GREET_ACTION = """
from nango_scripts import ActionError, NangoAction, action

from fake.models import Greeting, Reply


@action(input=Greeting, output=Reply)
async def greet(nango: NangoAction, input: Greeting) -> Reply:
    if input.name == "nobody":
        raise ActionError({"message": "nobody to greet", "code": "empty"})
    response = await nango.get("/hello", params={"name": input.name})
    return Reply(text=response.json()["text"])
"""


PING_ACTION = """
from nango_scripts import NangoAction, action


@action()
async def ping(nango: NangoAction) -> dict:
    print("pinging from the script")
    return {"pong": True}
"""

CRASHY_SYNC = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour")
async def crashy(nango: NangoSync) -> None:
    raise ValueError("kaboom")
"""


def serve_items(items: list[dict[str, Any]]) -> Any:
    def handler(request: Received) -> Any:
        if request.headers.get("x-key") != API_KEY:
            return 401, {}, {"message": "bad key"}
        start = int(request.query.get("cursor", "0"))
        chunk = items[start : start + 2]
        nxt = start + 2
        return 200, {}, {"data": chunk, "next": str(nxt) if nxt < len(items) else None}

    return handler


def make_project(tmp_path: Path, fake_api: FakeApi) -> dict[str, str]:
    """A project with a sync and an action, a connection, and the env to use them."""
    root = tmp_path / "proj"
    (root / "fake" / "syncs").mkdir(parents=True)
    (root / "fake" / "actions").mkdir()
    (root / "nango.toml").write_text(NANGO_TOML)
    (root / "fake" / "models.py").write_text(MODELS)
    (root / "fake" / "syncs" / "items.py").write_text(ITEMS_SYNC)
    (root / "fake" / "actions" / "greet.py").write_text(GREET_ACTION)
    (root / "fake" / "actions" / "ping.py").write_text(PING_ACTION)
    (root / "fake" / "syncs" / "crashy.py").write_text(CRASHY_SYNC)
    fake_api.route("/items", serve_items([{"id": str(i), "n": i} for i in range(5)]))
    fake_api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query['name']}"}))
    env = {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/state/nango.db",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_INTEGRATION_FAKE_BASE_URL": fake_api.url,
    }
    credentials = json.dumps({"type": "API_KEY", "apiKey": API_KEY})
    created = invoke(env, "connections", "create", "fake", "c1", "--credentials", credentials)
    assert created.exit_code == 0, created.output
    return env


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
