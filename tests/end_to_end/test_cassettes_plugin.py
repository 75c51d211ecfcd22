"""The pytest plugin and ``nango-scripts test``, run for real in a recorded project.

pytest runs in a subprocess (the installed console script, or ``python -m pytest``), so
the plugin is loaded through its ``pytest11`` entry point as users get it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.fakeapi import FakeApi
from support.recorded_project import invoke, make_project

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"

USER_TEST = """
def test_items_from_the_cassette(run_script, nango_project):
    run = run_script("items")
    assert run.result.success
    assert [r["id"] for r in run.outputs["models"]["Item"]["saved"]] == ["0", "1", "2", "3", "4"]
    assert (nango_project / "nango.toml").is_file()
"""

SAME_NAME_TEST = """
def test_items_from_the_cassette(run_script):
    run = run_script("me", integration="basicauth")
    assert run.outputs["output"]["plan"] == "pro"
"""


@pytest.fixture
def recorded(tmp_path: Path, fake_api: FakeApi) -> Path:
    """A project where ``items`` and ``me`` have a cassette and a snapshot; the API is gone."""
    root, env = make_project(tmp_path, fake_api)
    for script in ("items", "me"):
        result = invoke(env, "dryrun", script, "c1", "--save-responses")
        assert result.exit_code == 0, result.output
    fake_api.stop()
    return root


def _env() -> dict[str, str]:
    # Nothing from the outer run may steer the inner one.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "NANGO_")) and k != "PYTHONPATH"
    }


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120)


def nango_test(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(CONSOLE_SCRIPT), "test", *args], root)


def test_every_script_with_a_cassette_and_snapshot_is_a_passing_test(recorded: Path) -> None:
    done = nango_test(recorded, "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "paged/tests/snapshots/items.json::paged/items PASSED" in done.stdout
    assert "basicauth/tests/snapshots/me.json::basicauth/me PASSED" in done.stdout
    assert "2 passed" in done.stdout


def test_an_edited_snapshot_fails_with_a_readable_diff(recorded: Path) -> None:
    snapshot = recorded / "paged" / "tests" / "snapshots" / "items.json"
    snapshot.write_text(snapshot.read_text().replace('"n": 3', '"n": 33'))
    done = nango_test(recorded)
    assert done.returncode == 1
    out = done.stdout
    assert "paged/items: the replay's outputs differ from paged/tests/snapshots/items.json" in out
    assert "--- paged/tests/snapshots/items.json\n+++ replay" in out
    assert '-          "n": 33\n+          "n": 3' in out
    assert "record again: nango-scripts dryrun items CONNECTION_ID --save-responses" in out
    assert "1 failed, 1 passed" in out
    assert "Traceback" not in out


def test_a_script_that_now_asks_for_something_else_fails_naming_the_request(
    recorded: Path,
) -> None:
    script = recorded / "paged" / "syncs" / "items.py"
    script.write_text(script.read_text().replace('"/items"', '"/elements"'))
    done = nango_test(recorded, "-k", "items")
    assert done.returncode == 1
    assert "/elements?sort=id&per_page=2 is not in the cassette" in done.stdout
    assert "nango-scripts dryrun items CONNECTION_ID --save-responses" in done.stdout


def test_pytest_options_are_passed_along(recorded: Path) -> None:
    selected = nango_test(recorded, "-k", "items", "-v")
    assert selected.returncode == 0, selected.stdout + selected.stderr
    assert "1 deselected" in selected.stdout and "paged/items PASSED" in selected.stdout
    nothing = nango_test(recorded, "-k", "no_such_script")
    assert nothing.returncode == 1
    assert "no test matched the selection (2 deselected)" in nothing.stderr
    bad = nango_test(recorded, "--no-such-pytest-option")
    assert bad.returncode == 2
    assert "--no-such-pytest-option" in bad.stderr


def test_project_test_files_get_the_fixtures_even_with_the_same_file_name(
    recorded: Path,
) -> None:
    (recorded / "paged" / "tests" / "test_scripts.py").write_text(USER_TEST)
    (recorded / "basicauth" / "tests" / "test_scripts.py").write_text(SAME_NAME_TEST)
    done = nango_test(recorded, "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
    assert not (recorded / ".pytest_cache").exists()  # pytest's cache stays in .nango/


def test_plain_pytest_in_a_project_collects_the_snapshot_tests_too(recorded: Path) -> None:
    done = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], recorded)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_outside_a_project_the_plugin_does_nothing(tmp_path: Path) -> None:
    # the layout of a project, but no nango.toml
    (tmp_path / "x" / "tests" / "snapshots").mkdir(parents=True)
    (tmp_path / "x" / "tests" / "cassettes").mkdir()
    (tmp_path / "x" / "tests" / "snapshots" / "a.json").write_text("{}")
    (tmp_path / "x" / "tests" / "cassettes" / "a.yaml").write_text("interactions: []\n")
    done = _run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], tmp_path)
    assert done.returncode == 5, done.stdout + done.stderr  # no tests collected
    imported = _run(
        [
            sys.executable,
            "-c",
            "import sys, nango_scripts.testing.plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('nango_scripts', 'vcr'))))",
        ],
        tmp_path,
    )
    assert imported.stdout.strip() == (
        "['nango_scripts', 'nango_scripts.testing', 'nango_scripts.testing.plugin']"
    )


def test_nango_scripts_test_outside_a_project_is_bad_usage(tmp_path: Path) -> None:
    done = nango_test(tmp_path)
    assert done.returncode == 2
    assert "no nango-scripts project here: no nango.toml in" in done.stderr


def test_a_project_without_recordings_says_how_to_get_a_test(tmp_path: Path) -> None:
    (tmp_path / "nango.toml").write_text("")
    done = nango_test(tmp_path)
    assert done.returncode == 1
    assert "no tests found" in done.stderr
    assert "--save-responses" in done.stderr


def test_without_pytest_installed_the_error_says_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "nango.toml").write_text("")
    code = (
        "import sys; sys.modules['pytest'] = None; "
        "from nango_scripts.cli.main import main; main(['test'])"
    )
    done = _run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 1
    assert "needs pytest, which is not installed" in done.stderr
    assert "pip install pytest" in done.stderr
