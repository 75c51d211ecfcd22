"""The pytest plugin (entry point ``pytest11``): snapshot tests and fixtures for scripts.

In a nango-scripts project (a folder with ``nango.toml``: the rootdir, or
``--nango-project`` / ``NANGO_SCRIPTS_PROJECT``):

- every ``<integration>/tests/snapshots/<script>.json`` that has a cassette beside it
  (``tests/cassettes/<script>.yaml``) is a test, ``<integration>/<script>``: the script
  runs from its cassette, network closed, and its outputs must equal the snapshot; a
  difference fails with a unified diff;
- fixtures: ``nango_project`` (the project folder) and ``run_script`` (run a script from
  its cassette, get a :class:`~nango_scripts.testing.ScriptRun`).

Anywhere else the plugin does nothing, and it costs nothing: this module imports only
pytest and the standard library; the engine is imported when a snapshot test runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from nango_scripts.testing import ScriptRun

__all__ = ["SnapshotFile", "SnapshotItem", "SnapshotMismatch"]

_PROJECT_KEY = pytest.StashKey[Path | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nango-scripts")
    group.addoption(
        "--nango-project",
        action="store",
        default=None,
        metavar="DIR",
        help="nango-scripts project folder (default: NANGO_SCRIPTS_PROJECT, then the rootdir).",
    )


def _project_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("nango_project", None) or os.environ.get("NANGO_SCRIPTS_PROJECT")
    if not chosen:
        return config.rootpath
    return (config.invocation_params.dir / chosen).resolve()


def _nango_project(config: pytest.Config) -> Path | None:
    """The project folder if it is a nango-scripts project (has nango.toml), else None."""
    if _PROJECT_KEY not in config.stash:
        folder = _project_dir(config)
        config.stash[_PROJECT_KEY] = folder if (folder / "nango.toml").is_file() else None
    return config.stash[_PROJECT_KEY]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> SnapshotFile | None:
    # Cheap tests on the path first: this hook sees every file of every test run.
    if (
        file_path.suffix != ".json"
        or file_path.parent.name != "snapshots"
        or file_path.parent.parent.name != "tests"
    ):
        return None
    project = _nango_project(parent.config)
    if project is None or file_path.parent.parent.parent.parent != project:
        return None
    cassette = file_path.parent.parent / "cassettes" / f"{file_path.stem}.yaml"
    if not cassette.is_file():
        return None
    found: SnapshotFile = SnapshotFile.from_parent(parent, path=file_path)
    return found


class SnapshotMismatch(AssertionError):
    """A replay whose outputs differ from the snapshot, or that failed."""


class SnapshotFile(pytest.File):
    """``<integration>/tests/snapshots/<script>.json``: one test."""

    def collect(self) -> Iterable[pytest.Item]:
        integration = self.path.parent.parent.parent.name
        yield SnapshotItem.from_parent(
            self, name=f"{integration}/{self.path.stem}", integration=integration
        )


class SnapshotItem(pytest.Item):
    """Replay one script from its cassette and compare its outputs with the snapshot."""

    def __init__(self, *, integration: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.integration = integration
        self.script, _, variant = self.path.stem.partition("@")
        self.variant = variant or None

    def runtest(self) -> None:
        import asyncio

        from nango_scripts.testing import load_snapshot, run_script_from_cassette, snapshot_diff

        project = self.path.parent.parent.parent.parent
        expected = load_snapshot(self.path)
        run = asyncio.run(
            run_script_from_cassette(
                project, self.script, integration=self.integration, variant=self.variant
            )
        )
        where = self.path.relative_to(project).as_posix()
        flags = f" --variant {self.variant}" if self.variant else ""
        if isinstance(expected, dict) and "error" in expected:
            flags += " --expect-failure"
        update = (
            f"If the new outputs are right, record again: nango-scripts dryrun {self.script} "
            f"CONNECTION_ID --save-responses{flags}"
        )
        error = run.result.error
        if error is not None and not (isinstance(expected, dict) and "error" in expected):
            logs = "\n".join(f"  [{r.level}] {r.message}" for r in run.result.logs[-20:])
            raise SnapshotMismatch(
                f"{self.integration}/{self.script} failed when replayed from its cassette: "
                f"{error.message}\nLast log lines:\n{logs}\n{update}"
            )
        diff = snapshot_diff(expected, run.outputs, expected_name=where, actual_name="replay")
        if diff is not None:
            raise SnapshotMismatch(
                f"{self.integration}/{self.script}: the replay's outputs differ from {where}\n"
                f"{diff}\n{update}"
            )

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        from nango_scripts.errors import NangoScriptsError

        if isinstance(excinfo.value, SnapshotMismatch | NangoScriptsError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"snapshot {self.integration}/{self.script}"


@pytest.fixture
def nango_project(request: pytest.FixtureRequest) -> Path:
    """The project folder: ``--nango-project``, else ``NANGO_SCRIPTS_PROJECT``, else the rootdir."""
    return _project_dir(request.config)


@pytest.fixture
def run_script(nango_project: Path) -> Callable[..., ScriptRun]:
    """Run a script of the project from its cassette (network closed) and get its ScriptRun.

    ``run_script("issues")`` or ``run_script("create_issue", integration="github",
    input={...})``; input, metadata and last_sync_date default to the recording's. For
    ``async def`` tests, ``await nango_scripts.testing.run_script_from_cassette(...)``.
    """

    def run(
        name: str,
        *,
        integration: str | None = None,
        input: Any = None,
        metadata: Mapping[str, Any] | None = None,
        last_sync_date: datetime | None = None,
    ) -> ScriptRun:
        import asyncio

        from nango_scripts.testing import run_script_from_cassette

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "run_script is for plain `def` tests; in an async test, "
                "`await nango_scripts.testing.run_script_from_cassette(...)` instead."
            )
        return asyncio.run(
            run_script_from_cassette(
                nango_project,
                name,
                integration=integration,
                input=input,
                metadata=metadata,
                last_sync_date=last_sync_date,
            )
        )

    return run
