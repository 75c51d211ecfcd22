"""``nango-scripts test``: the project's tests through pytest, snapshot tests included.

Runs ``pytest`` in-process, in the project folder, with the nango-scripts plugin: every
script with a cassette and a snapshot is replayed and compared (see docs/testing.md),
next to the project's own test files. Every argument is passed to pytest as is.

Exit codes: 0 all passed; 1 a test failed, collection broke, or no test was found (a
message says how to record one); 2 pytest refused its arguments.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from nango_scripts.cli._common import project_folder
from nango_scripts.errors import NangoScriptsError

# pytest's ExitCode -> ours (SPEC 5: 1 a run failed, 2 bad usage)
_EXIT_CODES = {0: 0, 1: 1, 2: 1, 3: 1, 4: 2, 5: 1}
_NO_TESTS = 5


class PytestMissingError(NangoScriptsError):
    pass


@click.command(
    "test",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def test_cmd(ctx: click.Context, pytest_args: tuple[str, ...]) -> None:
    """Replay every script's cassette, compare with its snapshot, run the project's tests.

    PYTEST_ARGS go to pytest unchanged, e.g. `nango-scripts test -k issues -x`
    (`nango-scripts test -- --help` for pytest's own options). Paths are relative to the
    project folder.
    """
    from nango_scripts.settings import load_settings

    project = load_settings(project_folder(ctx)).project_dir
    try:
        import pytest
    except ImportError:
        raise PytestMissingError(
            "nango-scripts test needs pytest, which is not installed.",
            hint="Install it with: pip install pytest (or pip install 'nango-scripts[dev]').",
        ) from None

    args = _pytest_args(project, list(pytest_args))
    selection = _Selection()
    with contextlib.chdir(project):
        code = int(pytest.main(args, plugins=[selection]))
    if code == _NO_TESTS and selection.deselected:
        click.echo(
            f"Error: no test matched the selection ({selection.deselected} deselected).",
            err=True,
        )
    elif code == _NO_TESTS:
        click.echo(
            f"Error: no tests found in {project}. A script gets a test when it has a cassette "
            "and a snapshot: record them with `nango-scripts dryrun NAME CONNECTION_ID "
            "--save-responses`; test files go in <integration>/tests/.",
            err=True,
        )
    ctx.exit(_EXIT_CODES.get(code, 1))


class _Selection:
    """A pytest plugin object counting what -k/-m deselected, to word 'no tests' right."""

    def __init__(self) -> None:
        self.deselected = 0

    def pytest_deselected(self, items: list[object]) -> None:
        self.deselected += len(items)


def _pytest_args(project: Path, given: list[str]) -> list[str]:
    args = ["--rootdir", str(project), "--nango-project", str(project)]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        args += ["-p", "nango_scripts.testing.plugin"]
    if not any(arg.startswith("--import-mode") for arg in given):
        # Test files of different integrations may share a name (github/tests/test_issues.py,
        # gitlab/tests/test_issues.py): import them by path, not as top-level modules.
        args.append("--import-mode=importlib")
    # pytest's cache with the rest of the local state, not in the project's top folder
    args += ["-o", "cache_dir=.nango/pytest-cache"]
    return args + given
