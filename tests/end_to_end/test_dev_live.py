"""``dev --run`` without ``--replay``: live dry runs through the engine, against a local API;
and what ``dev`` refuses at start (exit 2)."""

from __future__ import annotations

import base64
import json
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support.dev_process import DevProcess, clean_env, edit
from support.fakeapi import FakeApi

from nango_scripts.cli.main import cli

NANGO_TOML = '[integrations.shop]\nbase_url = "http://127.0.0.1:9"\nauth = "none"\n'

ORDERS = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Order(BaseModel):
    id: str
    total: int


@sync(models=[Order], frequency="every hour")
async def orders(nango: NangoSync) -> None:
    rows = (await nango.get("/orders")).json()
    await nango.batch_save([Order(id=r["id"], total=r["total"]) for r in rows], Order)
"""

QUOTE = """
from pydantic import BaseModel

from nango_scripts import NangoAction, action


class Ask(BaseModel):
    n: int


class Quote(BaseModel):
    total: int
    currency: str


@action(input=Ask, output=Quote)
async def quote(nango: NangoAction, input: Ask) -> Quote:
    price = (await nango.get("/price")).json()["price"]
    return Quote(total=input.n * price, currency="EUR")
"""


@pytest.fixture
def shop(tmp_path: Path, fake_api: FakeApi) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "shop-project"
    (project / "shop" / "syncs").mkdir(parents=True)
    (project / "shop" / "actions").mkdir()
    (project / "nango.toml").write_text(NANGO_TOML)
    (project / "shop" / "syncs" / "orders.py").write_text(ORDERS)
    (project / "shop" / "actions" / "quote.py").write_text(QUOTE)
    fake_api.route(
        "/orders", lambda r: (200, {}, [{"id": "a", "total": 1}, {"id": "b", "total": 2}])
    )
    fake_api.route("/price", lambda r: (200, {}, {"price": 10}))
    env = clean_env(
        NANGO_SCRIPTS_DATABASE_URL=f"sqlite:///{tmp_path / 'state' / 'nango.db'}",
        NANGO_ENCRYPTION_KEY=base64.b64encode(bytes(32)).decode(),
        NANGO_INTEGRATION_SHOP_BASE_URL=fake_api.url,
        NO_PROXY="127.0.0.1",
    )
    created = invoke(env, project, "connections", "create", "shop", "c1", "--credentials", "{}")
    assert created.exit_code == 0, created.output
    return project, env


def invoke(env: dict[str, str], project: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--project", str(project), *args], env=env, catch_exceptions=False
    )


def test_a_live_sync_is_rerun_on_save_and_compared(
    shop: tuple[Path, dict[str, str]], fake_api: FakeApi
) -> None:
    project, env = shop
    with DevProcess(project, "--run", "orders", "c1", "--json", "--no-serve", env=env) as dev:
        first = dev.started(runs=True)
        assert first is not None and first["mode"] == "live" and first["success"] is True
        assert first["counts"]["Order"]["saved"] == 2
        edit(
            project / "shop" / "syncs" / "orders.py",
            'total=r["total"]) for r in rows]',
            'total=r["total"] * 100) for r in rows if r["id"] != "a"]',
        )
        dev.expect("reloaded")
        run = dev.expect("run")
        assert run["changes"] == {
            "Order": {"added": [], "removed": ["a"], "changed": {"b": ["total"]}}
        }
        assert dev.interrupt() == 0
    assert len(fake_api.requests_to("/orders")) == 2


def test_a_live_action_shows_its_output_and_what_changed_in_it(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    args = ("--run", "quote", "c1", "--input", '{"n": 3}', "--json", "--no-serve")
    with DevProcess(project, *args, env=env) as dev:
        first = dev.started(runs=True)
        assert first is not None and first["output"] == {"total": 30, "currency": "EUR"}
        edit(project / "shop" / "actions" / "quote.py", 'currency="EUR"', 'currency="USD"')
        dev.expect("reloaded")
        run = dev.expect("run")
        assert run["output"] == {"total": 30, "currency": "USD"}
        assert run["output_changes"] == ["currency"]
        assert dev.interrupt() == 0


def test_a_failing_run_is_an_event_and_watching_goes_on(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    with DevProcess(project, "--run", "orders", "c1", "--json", "--no-serve", env=env) as dev:
        dev.started(runs=True)
        edit(project / "shop" / "syncs" / "orders.py", "rows = (", "rows = 1 / 0 or (")
        dev.expect("reloaded")
        run = dev.expect("run")
        assert run["success"] is False and "division by zero" in run["error"]["message"]
        assert run["changes"] is None
        edit(project / "shop" / "syncs" / "orders.py", "rows = 1 / 0 or (", "rows = (")
        dev.expect("reloaded")
        assert dev.expect("run")["changes"] == {}  # compared with the last successful run
        # renamed away: nothing to run, and the event says why
        edit(project / "shop" / "syncs" / "orders.py", "def orders(", "def all_orders(")
        dev.expect("reloaded")
        error = dev.expect("error")
        assert (
            error["stage"] == "run" and 'no script named "orders"' in error["errors"][0]["message"]
        )
        assert dev.interrupt() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replay"], "--replay needs --run NAME CONNECTION_ID"),
        (["--run", "ordrs", "c1"], 'no script named "ordrs"'),
        (["--run", "orders", "nobody"], "nobody"),
        (["--run", "orders", "c1", "--replay"], "has no cassette"),
        (["--run", "quote", "c1", "--input", "{not json"], "not valid JSON"),
        (["--debounce", "0"], "--debounce"),
    ],
)
def test_what_cannot_work_is_refused_at_start_with_exit_2(
    shop: tuple[Path, dict[str, str]], args: list[str], message: str
) -> None:
    project, env = shop
    done = invoke(env, project, "dev", *args)
    assert done.exit_code == 2, done.output
    assert message in done.stderr


def test_json_events_are_one_object_per_line_and_sigterm_stops_cleanly(
    shop: tuple[Path, dict[str, str]],
) -> None:
    project, env = shop
    with DevProcess(project, "--json", env={**env, "NANGO_SCRIPTS_DEV_SERVE": "0"}) as dev:
        dev.started(runs=False)
        assert dev.interrupt(signal.SIGTERM) == 0
    assert [json.loads(line)["event"] for line in dev.lines] == ["reloaded", "watching"]
