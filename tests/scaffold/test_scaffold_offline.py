"""Right after ``init``, in a fresh folder and with no network: compile, test and
``dryrun --replay`` work; and the shipped recording is what recording again gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.fake_github import SHIPPED, TOKEN, record

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NANGO", "PYTEST"))}
    # Anything that tries to go online fails instead (httpx honours these).
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    return env


def nango(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=cwd,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fresh")
    done = nango(root, "init", "my-project")
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "my-project"


def test_compile_works_at_once(project: Path) -> None:
    done = nango(project, "compile")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 scripts in 1 integration" in done.stdout


def test_test_works_at_once(project: Path) -> None:
    done = nango(project, "test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout  # the snapshot test and the two of test_issues.py


def test_dryrun_replay_works_at_once_and_gives_the_snapshot(project: Path) -> None:
    done = nango(project, "dryrun", "issues", "demo", "--replay", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    snapshot = json.loads((project / "github/tests/snapshots/issues.json").read_text())
    assert json.loads(done.stdout) == snapshot
    assert len(snapshot["models"]["Issue"]["saved"]) == 40
    assert done.stderr.count("[info] saved ") == 3  # three pages, followed by Link header


def test_the_shipped_cassette_holds_no_secret() -> None:
    text = (SHIPPED / "cassettes" / "issues.yaml").read_text()
    assert TOKEN not in text and "127.0.0.1" not in text
    cassette = yaml.safe_load(text)
    for interaction in cassette["interactions"]:
        request = interaction["request"]
        assert request["uri"].startswith("https://api.github.com/user/issues?")
        assert request["headers"]["authorization"] == ["<<redacted>>"]
    assert cassette["metadata"]["nango_scripts"]["credentials"]["access_token"] != TOKEN


def test_recording_again_gives_the_shipped_files(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from nango_scripts.cli.main import cli

    project = tmp_path / "project"
    assert CliRunner().invoke(cli, ["init", str(project)]).exit_code == 0
    record(project, tmp_path / "state")

    def exchanges(path: Path) -> list[tuple[str, str, str, object]]:
        cassette = yaml.safe_load(path.read_text())
        return [
            (
                i["request"]["method"],
                i["request"]["uri"],
                i["response"]["body"]["string"],
                i["response"]["headers"].get("link"),
            )
            for i in cassette["interactions"]
        ]

    fresh, shipped = project / "github" / "tests", SHIPPED
    assert exchanges(fresh / "cassettes/issues.yaml") == exchanges(
        shipped / "cassettes/issues.yaml"
    )
    assert (fresh / "snapshots/issues.json").read_text() == (
        shipped / "snapshots/issues.json"
    ).read_text()
