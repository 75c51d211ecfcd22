"""``DevSession``: reloads re-import the project only; runs are compared with the last one."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nango_scripts.engine._dev import DevSession, RunWithRecords
from nango_scripts.runtime import RunResult

NANGO_TOML = '[integrations.shop]\nbase_url = "http://127.0.0.1:9"\nauth = "none"\n'

SYNC = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Order(BaseModel):
    id: str
    total: int


@sync(models=[Order], frequency="every hour")
async def orders(nango: NangoSync) -> None:
    await nango.batch_save([Order(id="1", total={total})], Order)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "nango.toml").write_text(NANGO_TOML)
    (tmp_path / "shop" / "syncs").mkdir(parents=True)
    (tmp_path / "shop" / "syncs" / "orders.py").write_text(SYNC.format(total=1))
    return tmp_path


def test_a_reload_reimports_the_project_but_not_the_framework(project: Path) -> None:
    session = DevSession(project)
    first = session.reload()
    assert [s.name for s in first.scripts] == ["orders"] and first.errors == ()
    framework = {name: sys.modules[name] for name in ("nango_scripts.dsl", "pydantic", "httpx")}
    script_module = sys.modules["nango_project.shop.syncs.orders"]

    (project / "shop" / "syncs" / "orders.py").write_text(SYNC.format(total=2))
    second = session.reload()

    assert second.errors == ()
    assert sys.modules["nango_project.shop.syncs.orders"] is not script_module
    assert {name: sys.modules[name] for name in framework} == framework
    assert second.scripts[0].func is not first.scripts[0].func


def test_errors_are_collected_not_raised_and_the_fix_clears_them(project: Path) -> None:
    session = DevSession(project, script="orders")
    (project / "shop" / "syncs" / "orders.py").write_text("def broken(:\n")
    broken = session.reload()
    assert session.target() is None
    assert len(broken.errors) == 1
    assert "shop/syncs/orders.py:1: SyntaxError" in str(broken.errors[0])

    (project / "shop" / "syncs" / "orders.py").write_text(SYNC.format(total=3))
    assert session.reload().errors == ()
    assert session.target() is not None


def test_a_script_of_an_integration_missing_from_nango_toml_is_an_error(project: Path) -> None:
    (project / "nango.toml").write_text("")
    errors = DevSession(project).reload().errors
    assert ['integration "shop" is not configured' in str(e) for e in errors] == [True]


def test_a_broken_nango_toml_is_an_error_too(project: Path) -> None:
    (project / "nango.toml").write_text("[integrations.shop\n")
    outcome = DevSession(project).reload()
    assert "invalid TOML" in str(outcome.errors[0])
    assert [s.name for s in outcome.scripts] == ["orders"]


def _outcome(success: bool, **records: list[dict[str, Any]]) -> RunWithRecords:
    result = RunResult(
        script="orders",
        integration_id="shop",
        connection_id="c1",
        kind="sync",
        success=success,
        started_at=datetime.now(UTC),
        duration_s=0.01,
    )
    return RunWithRecords(
        result, {m: {"saved": r, "updated": [], "deleted": []} for m, r in records.items()}
    )


@pytest.mark.anyio
async def test_runs_are_compared_with_the_last_successful_one(project: Path) -> None:
    outcomes = iter(
        [
            _outcome(True, Order=[{"id": "1", "total": 1}]),
            _outcome(False),
            _outcome(True, Order=[{"id": "1", "total": 2}, {"id": "2", "total": 5}]),
        ]
    )

    async def runner() -> RunWithRecords:
        return next(outcomes)

    session = DevSession(project, script="orders", runner=runner)
    first, failed, third = [await session.run() for _ in range(3)]
    assert first.changes is None  # nothing to compare with
    assert failed.changes is None
    assert third.changes is not None
    assert third.changes["Order"].as_dict() == {
        "added": ["2"],
        "removed": [],
        "changed": {"1": ["total"]},
    }
