"""``nango-scripts dev`` serves the local service with the hot-reloaded scripts: a real
process on a free port, called over HTTP with the secret key, its files edited on disk."""

from __future__ import annotations

import base64
import re
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from support.dev_process import EVENT_TIMEOUT_S, DevProcess, clean_env, edit, save
from support.fakeapi import FakeApi
from support.waiting import eventually

from nango_scripts.cli.main import cli

SECRET = "sk_test_dev_serve_0123456789"
KEY = re.compile(r"nango_sk_[0-9a-f]{64}")
CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}

NANGO_TOML = '[integrations.fake]\nbase_url = "http://127.0.0.1:9"\nauth = "none"\n'

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

ITEMS = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", description="All items")
async def items(nango: NangoSync) -> None:
    rows = (await nango.get("/items")).json()
    await nango.batch_save([Item(id=r["id"], n=r["n"]) for r in rows], Item)
"""

GREET = """
from nango_scripts import NangoAction, action

from fake.models import Greeting, Reply


@action(input=Greeting, output=Reply, description="Say hello")
async def greet(nango: NangoAction, input: Greeting) -> Reply:
    return Reply(text="hello " + input.name)
"""


@pytest.fixture
def shop(tmp_path: Path, fake_api: FakeApi) -> tuple[Path, dict[str, str]]:
    """A project with a sync and an action, a connection, and the fake API behind it."""
    project = tmp_path / "project"
    (project / "fake" / "syncs").mkdir(parents=True)
    (project / "fake" / "actions").mkdir()
    (project / "nango.toml").write_text(NANGO_TOML)
    (project / "fake" / "models.py").write_text(MODELS)
    (project / "fake" / "syncs" / "items.py").write_text(ITEMS)
    (project / "fake" / "actions" / "greet.py").write_text(GREET)
    fake_api.route("/items", lambda r: (200, {}, [{"id": str(i), "n": i} for i in range(3)]))
    env = clean_env(
        NANGO_SCRIPTS_DATABASE_URL=f"sqlite:///{tmp_path / 'state' / 'nango.db'}",
        NANGO_ENCRYPTION_KEY=base64.b64encode(bytes(32)).decode(),
        NANGO_INTEGRATION_FAKE_BASE_URL=fake_api.url,
        NO_PROXY="127.0.0.1",
    )
    created = invoke(env, project, "connections", "create", "fake", "c1", "--credentials", "{}")
    assert created.exit_code == 0, created.output
    return project, env


def invoke(env: dict[str, str], project: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--project", str(project), *args], env=env, catch_exceptions=False
    )


class Api:
    """The dev process's service, called as a backend would (the key in every request)."""

    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=EVENT_TIMEOUT_S
        )

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def greet(self, name: str) -> Any:
        answer = self.client.post(
            "/action/trigger", json={"action_name": "greet", "input": {"name": name}}, headers=CONN
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def scripts(self) -> dict[str, dict[str, Any]]:
        answer = self.client.get("/scripts/config")
        assert answer.status_code == 200, answer.text
        return {
            script["name"]: script
            for integration in answer.json()
            for script in integration["syncs"] + integration["actions"]
        }

    def records(self) -> dict[str, int]:
        answer = self.client.get("/records", params={"model": "Item"}, headers=CONN)
        assert answer.status_code == 200, answer.text
        return {r["id"]: r["n"] for r in answer.json()["records"]}


def test_every_save_reloads_the_service_and_a_broken_save_keeps_the_last_good(
    shop: tuple[Path, dict[str, str]], fake_api: FakeApi
) -> None:
    project, env = shop
    greet = project / "fake" / "actions" / "greet.py"
    items = project / "fake" / "syncs" / "items.py"
    args = ("--port", "0", "--json", "--run", "greet", "c1", "--input", '{"name": "run"}')
    with DevProcess(project, *args, env={**env, "NANGO_SECRET_KEY": SECRET}) as dev:
        first = dev.started(runs=True, serves=True)
        assert first is not None and first["output"] == {"text": "hello run"}
        with Api(dev.url, SECRET) as api:
            assert httpx.get(dev.url + "/scripts/config").status_code == 401
            assert httpx.get(dev.url + "/health").json() == {"result": "ok"}

            scripts = api.scripts()
            assert (scripts["items"]["type"], scripts["greet"]["type"]) == ("sync", "action")
            loaded = scripts["greet"]["last_deployed"]
            assert api.scripts()["greet"]["last_deployed"] == loaded  # not the request's time
            assert api.greet("ada") == {"text": "hello ada"}
            # the scheduler is on, as in serve: the connection's sync has its INITIAL run
            eventually(
                lambda: api.records() == {"0": 0, "1": 1, "2": 2},
                "the initial run",
                seconds=EVENT_TIMEOUT_S,
            )
            status = api.client.get(
                "/sync/status",
                params={"syncs": "items", "provider_config_key": "fake", "connection_id": "c1"},
            )
            assert status.status_code == 200, status.text
            [sync_status] = status.json()["syncs"]
            assert sync_status["name"] == "items" and sync_status["frequency"] == "every hour"

            # an edit: when the reload shows, the API answers with the new code (no restart)
            edit(greet, '"hello "', '"bonjour "')
            assert dev.expect("reloaded")["files"] == ["fake/actions/greet.py"]
            assert dev.expect("run")["output"] == {"text": "bonjour run"}  # the re-run loop too
            assert api.greet("ada") == {"text": "bonjour ada"}
            assert api.scripts()["greet"]["last_deployed"] > loaded

            # the sync too: the next triggered run runs the new code
            edit(items, 'n=r["n"])', 'n=r["n"] * 10)')
            dev.expect("reloaded")
            dev.expect("run")
            trigger = {"syncs": ["items"], "provider_config_key": "fake", "connection_id": "c1"}
            answer = api.client.post("/sync/trigger", json=trigger)
            assert answer.status_code == 200, answer.text
            eventually(
                lambda: api.records() == {"0": 0, "1": 10, "2": 20},
                "a run of the new code",
                seconds=EVENT_TIMEOUT_S,
            )
            assert len(fake_api.requests_to("/items")) == 2

            # a broken save: the error shows, the service keeps the last good version
            good = greet.read_text()
            save(greet, good + "\ndef broken(:\n")
            error = dev.expect("error")
            assert error["stage"] == "reload" and error["files"] == ["fake/actions/greet.py"]
            [problem] = error["errors"]
            assert "fake/actions/greet.py:" in problem["message"]
            assert "SyntaxError" in problem["message"]
            assert error["last_good"] == ["fake/greet"]
            assert api.greet("ada") == {"text": "bonjour ada"}
            assert "greet" in api.scripts()

            # fixed: the new version is served
            save(greet, good.replace('"bonjour "', '"hi "'))
            dev.expect("reloaded")
            assert dev.expect("run")["output"] == {"text": "hi run"}
            assert api.greet("ada") == {"text": "hi ada"}

        assert dev.interrupt(signal.SIGINT) == 0
    assert "Traceback" not in dev.stderr
    assert [e for e in dev.stderr.splitlines() if "ERROR" in e] == []


def test_the_generated_key_is_printed_once_and_kept_and_sigterm_stops_cleanly(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    with DevProcess(project, "--port", "0", env=env) as dev:
        serving = dev.line_containing("serving the API on ")
        url = re.search(r"http://127\.0\.0\.1:\d+", serving)
        assert url is not None
        dev.line_containing("watching")
        # a broken save, for humans: the error, and what the service keeps serving
        greet = project / "fake" / "actions" / "greet.py"
        save(greet, GREET + "\ndef broken(:\n")
        dev.stderr_containing("1 problem found after a change to fake/actions/greet.py")
        dev.stderr_containing("fake/actions/greet.py:")
        dev.stderr_containing("The service keeps serving the last good version of fake/greet.")
        assert dev.interrupt(signal.SIGTERM) == 0
    [key] = KEY.findall(dev.stderr)
    assert "Stopped." in dev.stderr and "Traceback" not in dev.stderr
    greet.write_text(GREET)

    with DevProcess(project, "--port", "0", "--json", env=env) as dev:
        dev.started(runs=False, serves=True)
        assert (
            httpx.get(
                dev.url + "/connections", headers={"Authorization": "Bearer nope"}
            ).status_code
            == 401
        )
        answer = httpx.get(dev.url + "/connections", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        assert [c["connection_id"] for c in answer.json()["connections"]] == ["c1"]
        assert dev.interrupt(signal.SIGTERM) == 0
    assert not KEY.search(dev.stderr) and "Traceback" not in dev.stderr


def test_a_taken_port_and_serving_options_with_no_serve_exit_2(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = invoke(env, project, "dev", "--port", port)
    assert done.exit_code == 2, done.output
    assert f"cannot listen on http://127.0.0.1:{port}" in done.stderr
    assert "--no-serve" in done.stderr and "Traceback" not in done.stderr

    done = invoke(env, project, "dev", "--no-serve", "--port", "4000")
    assert done.exit_code == 2, done.output
    assert "--port is where the service listens: not with --no-serve" in done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_port_it_listens_where_nango_toml_server_says_as_serve_does(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    port = free_port()
    toml = project / "nango.toml"
    toml.write_text(toml.read_text() + f'\n[server]\nhost = "localhost"\nport = {port}\n')
    with DevProcess(project, "--json", env={**env, "NANGO_SECRET_KEY": SECRET}) as dev:
        dev.started(runs=False, serves=True)
        assert dev.url == f"http://localhost:{port}"
        assert httpx.get(dev.url + "/health").json() == {"result": "ok"}
        assert dev.interrupt() == 0

    # the option (or its variable) still wins over nango.toml
    other = free_port()
    with DevProcess(project, "--json", env={**env, "NANGO_SCRIPTS_DEV_PORT": str(other)}) as dev:
        dev.started(runs=False, serves=True)
        assert dev.url == f"http://localhost:{other}"
        assert dev.interrupt() == 0


EXTRA = """
from pydantic import BaseModel
from nango_scripts import NangoSync, sync


class Extra(BaseModel):
    id: str


@sync(models=[Extra], frequency="every hour", auto_start=False,
      endpoints=[{"method": "GET", "path": "/extras"}])
async def extras(nango: NangoSync) -> None:
    await nango.batch_save([Extra(id="x")], Extra)
"""


def test_a_saved_script_adds_its_endpoint_and_a_deleted_one_removes_it(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    extra = project / "fake" / "syncs" / "extras.py"
    with DevProcess(
        project, "--port", "0", "--json", env={**env, "NANGO_SECRET_KEY": SECRET}
    ) as dev:
        dev.started(runs=False, serves=True)
        with Api(dev.url, SECRET) as api:
            assert api.client.get("/extras", headers=CONN).status_code == 404
            assert api.client.get("/items", headers=CONN).status_code == 200
            save(extra, EXTRA)
            assert dev.expect("reloaded")["files"] == ["fake/syncs/extras.py"]
            answer = api.client.get("/extras", headers=CONN)
            assert answer.status_code == 200, answer.text
            assert (
                answer.json()
                == api.client.get("/records", params={"model": "Extra"}, headers=CONN).json()
            )
            assert "/extras" in api.client.get("/openapi.json").json()["paths"]

            extra.unlink()
            dev.expect("reloaded")
            gone = api.client.get("/extras", headers=CONN)
            assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
            assert "/extras" not in api.client.get("/openapi.json").json()["paths"]
        assert dev.interrupt() == 0
