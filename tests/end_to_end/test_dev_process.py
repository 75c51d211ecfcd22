"""``nango-scripts dev`` as a real process: edit files, read its JSON events from stdout."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.dev_process import DevProcess, clean_env, edit, save

from nango_scripts.cli.main import cli

TITLE = 'title=raw["title"],'
CLOSED = "2250000000"  # one of the ten closed issues of the example's cassette


@pytest.fixture
def project(tmp_path: Path) -> Path:
    done = CliRunner().invoke(cli, ["init", str(tmp_path / "p")], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return tmp_path / "p"


def test_reload_error_fix_and_runs_with_changes(project: Path) -> None:
    models = project / "github" / "models.py"
    sync = project / "github" / "syncs" / "issues.py"
    with DevProcess(project, "--run", "issues", "demo", "--replay", "--json", "--no-serve") as dev:
        first = dev.started(runs=True)
        assert first is not None
        assert first["success"] is True and first["mode"] == "replay"
        assert first["counts"] == {"Issue": {"saved": 40, "updated": 0, "deleted": 0, "invalid": 0}}
        assert first["changes"] is None and first["since_change_ms"] is None
        datetime.fromisoformat(first["ts"])

        # an edit that changes every title: a reload, then a run saying what changed
        edit(models, TITLE, 'title=raw["title"].upper(),')
        reloaded = dev.expect("reloaded")
        assert reloaded["files"] == ["github/models.py"] and reloaded["scripts"] == 2
        assert reloaded["duration_ms"] >= 0
        run = dev.expect("run")
        assert run["success"] is True
        changes = run["changes"]["Issue"]
        assert changes["added"] == [] and changes["removed"] == []
        assert len(changes["changed"]) == 40
        assert set(map(tuple, changes["changed"].values())) == {("title",)}
        assert 0 < run["duration_ms"] <= run["since_change_ms"]

        # a syntax error: an error event, no run, and the process keeps watching
        good = sync.read_text()
        save(sync, good + "\ndef broken(:\n")
        error = dev.expect("error")
        assert error["stage"] == "reload" and error["files"] == ["github/syncs/issues.py"]
        [problem] = error["errors"]
        assert "github/syncs/issues.py:" in problem["message"]
        assert "SyntaxError" in problem["message"]
        assert dev.process.poll() is None

        # a definition error is shown the same way
        save(sync, good.replace('"every 30 minutes"', '"every 5 seconds"'))
        error = dev.expect("error")
        assert "ScriptDefinitionError" in [e["type"] for e in error["errors"]]

        # fixed: reloaded, and the run is compared with the last successful run
        save(sync, good)
        assert dev.expect("reloaded")["files"] == ["github/syncs/issues.py"]
        assert dev.expect("run")["changes"] == {}

        # an edit that drops records: they show as removed
        edit(
            sync,
            'if "pull_request" not in raw]',
            'if "pull_request" not in raw and raw["state"] == "open"]',
        )
        dev.expect("reloaded")
        run = dev.expect("run")
        removed = run["changes"]["Issue"]["removed"]
        assert CLOSED in removed and len(removed) == 10
        assert run["counts"]["Issue"]["saved"] == 30

        assert dev.interrupt() == 0
    assert "Traceback" not in dev.stderr
    # stdout held events only; what the script logged went to stderr
    assert all(json.loads(line)["event"] for line in dev.lines)
    assert "[info] saved 18 issues from a page of 20" in dev.stderr


def test_its_own_outputs_and_state_do_not_trigger_a_reload(project: Path) -> None:
    sync = project / "github" / "syncs" / "issues.py"
    with DevProcess(project, "--json", "--no-serve") as dev:
        assert dev.started(runs=False) is None
        cassette = project / "github" / "tests" / "cassettes" / "issues.yaml"
        save(cassette, cassette.read_text())
        save(project / "github" / "tests" / "snapshots" / "issues.json", "{}\n")
        (project / ".nango").mkdir()
        (project / ".nango" / "nango.db").write_bytes(b"x")
        (project / "github" / "syncs" / "__pycache__").mkdir()
        (project / "github" / "syncs" / "__pycache__" / "issues.cpython-311.pyc").write_bytes(b"x")
        (project / "README.md").write_text("changed\n")
        edit(sync, "every 30 minutes", "every hour")
        assert dev.expect("reloaded")["files"] == ["github/syncs/issues.py"]
        assert dev.interrupt() == 0


def test_every_option_can_come_from_the_environment(project: Path) -> None:
    env = clean_env(
        NANGO_SCRIPTS_DEV_RUN="issues demo",
        NANGO_SCRIPTS_DEV_REPLAY="1",
        NANGO_SCRIPTS_DEV_JSON="true",
        NANGO_SCRIPTS_DEV_DEBOUNCE="40",
        NANGO_SCRIPTS_DEV_STEP="10",
        NANGO_SCRIPTS_DEV_INTEGRATION="github",
        NANGO_SCRIPTS_DEV_HOST="127.0.0.1",
        NANGO_SCRIPTS_DEV_PORT="0",
    )
    with DevProcess(project, env=env) as dev:
        run = dev.started(runs=True, serves=True)
        assert run is not None and run["script"] == "issues" and run["mode"] == "replay"
        assert dev.url.startswith("http://127.0.0.1:") and not dev.url.endswith(":0")
        assert dev.interrupt() == 0


def test_without_json_it_speaks_to_humans_and_ctrl_c_is_a_clean_exit(project: Path) -> None:
    models = project / "github" / "models.py"
    with DevProcess(project, "--run", "issues", "demo", "--replay", "--no-serve") as dev:
        dev.line_containing("reloaded 2 scripts in 1 integration")
        dev.line_containing("Issue: 40 saved, 0 updated, 0 deleted, 0 invalid")
        dev.line_containing("watching")
        edit(models, TITLE, 'title=raw["title"] + "!",')
        assert "after a change to github/models.py" in dev.line_containing("reloaded")
        assert "0 added, 0 removed, 40 changed" in dev.line_containing("since the previous run")
        assert dev.next_line().strip() == "~ 2250000000: title"
        assert dev.interrupt() == 0
    assert "Stopped." in dev.stderr and "Traceback" not in dev.stderr


def test_a_template_runs_in_dev_from_the_packs_cassette(tmp_path: Path) -> None:
    project = tmp_path / "templates-only"
    project.mkdir()
    (project / "nango.toml").write_text('[integrations.github]\nprovider = "github"\n')
    pack = Path(__file__).resolve().parents[2] / "templates" / "github" / "tests"
    expected = json.loads((pack / "snapshots" / "repositories.json").read_text())
    args = ("--run", "repositories", "demo", "--replay", "--json", "--no-serve")
    with DevProcess(project, *args) as dev:
        first = dev.started(runs=True)
        assert first is not None and first["success"] is True, dev.stderr
        saved = len(expected["models"]["Repository"]["saved"])
        assert first["counts"]["Repository"]["saved"] == saved > 0
