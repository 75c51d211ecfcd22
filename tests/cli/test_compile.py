"""``nango-scripts compile`` on real project folders, with the real ``load_settings``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli
from nango_scripts.errors import ConfigError

NANGO_TOML = """
[integrations.github]
provider = "github"
"""

MODELS = """
from pydantic import BaseModel

class Issue(BaseModel):
    id: str
    title: str

class Comment(BaseModel):
    id: int

class NewIssue(BaseModel):
    title: str
"""

ISSUES_SYNC = """
from nango_scripts.dsl import sync
from ..models import Comment, Issue

@sync(models=[Issue, Comment], frequency="every 30 minutes", sync_type="full", scopes=["repo"])
async def issues(nango) -> None:
    pass
"""

CREATE_ACTION = """
from nango_scripts.dsl import action
from ..models import Issue, NewIssue

@action(input=NewIssue, output=Issue, description="Create an issue")
async def create_issue(nango, input):
    return None
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "nango.toml": NANGO_TOML,
            "github/models.py": MODELS,
            "github/syncs/issues.py": ISSUES_SYNC,
            "github/actions/create_issue.py": CREATE_ACTION,
        },
    )


def compile_(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), "compile", *args])


def test_prints_a_table_of_the_scripts(project: Path) -> None:
    result = compile_(project)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "INTEGRATION  NAME          KIND    MODELS             FREQUENCY         ENDPOINT",
        "github       issues        sync    Issue, Comment     every 30 minutes  GET /issues",
        "github       create_issue  action  NewIssue -> Issue                    POST /create_issue",
        "",
        "2 scripts in 1 integration",
    ]


def test_summary_counts_integrations(project: Path) -> None:
    write(
        project,
        {
            "nango.toml": NANGO_TOML + '\n[integrations.gitlab]\nprovider = "gitlab"\n',
            "gitlab/models.py": MODELS,
            "gitlab/syncs/issues.py": ISSUES_SYNC,
        },
    )
    result = compile_(project)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "3 scripts in 2 integrations"


def test_empty_project(tmp_path: Path) -> None:
    (tmp_path / "nango.toml").write_text("", encoding="utf-8")
    result = compile_(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 scripts in 0 integrations\n"


def test_every_error_is_listed_and_exit_is_1(project: Path) -> None:
    write(
        project,
        {
            "github/syncs/broken.py": "def issues(nango:\n    pass\n",
            "github/syncs/no_id.py": """
                from nango_scripts.dsl import sync
                from ..models import NewIssue

                @sync(models=[NewIssue], frequency="every hour")
                async def new_issues(nango):
                    pass
                """,
            "github/actions/fast.py": """
                from nango_scripts.dsl import sync
                from ..models import Issue

                @sync(models=[Issue], frequency="every 10 seconds")
                async def fast(nango):
                    pass
                """,
            "slack/actions/hello.py": """
                from nango_scripts.dsl import action

                @action()
                async def hello(nango):
                    return None
                """,
        },
    )
    result = compile_(project)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    # The scripts that load are still shown.
    assert "3 scripts in 2 integrations" in result.stdout
    assert "slack        hello" in result.stdout
    assert result.stderr == textwrap.dedent(
        """
        Error: 4 problems found:

        1. github/syncs/broken.py:1: SyntaxError: '(' was never closed

        2. github/syncs/no_id.py:5, sync "new_issues": model NewIssue has no "id" field.
           Add "id: str" (or int) to NewIssue.

        3. github/actions/fast.py:5, sync "fast": frequency "every 10 seconds" is 10 seconds; the shortest allowed is 30 seconds.
           Write e.g. frequency="every 30 minutes", "every hour" or "every 5m" (30 seconds at least).

        4. integration "slack" is not configured in nango.toml, so its scripts cannot run: hello.
           Add an [integrations.slack] table to nango.toml, with provider = "..." (a built-in provider) or base_url and auth.
        """
    )


def test_with_an_empty_nango_toml_every_integration_is_unconfigured(project: Path) -> None:
    (project / "nango.toml").write_text("", encoding="utf-8")
    result = compile_(project)
    assert result.exit_code == 1
    assert (
        '1. integration "github" is not configured in nango.toml, so its scripts cannot run: issues, create_issue.'
        in result.stderr
    )


def test_json(project: Path) -> None:
    result = compile_(project, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["errors"] == []
    issues, create = document["scripts"]
    assert issues == {
        "integration": "github",
        "name": "issues",
        "kind": "sync",
        "models": ["Issue", "Comment"],
        "frequency": "every 30 minutes",
        "frequency_seconds": 1800,
        "sync_type": "full",
        "track_deletes": False,
        "auto_start": True,
        "metadata": None,
        "scopes": ["repo"],
        "description": "",
        "version": "0.0.1",
        "is_async": True,
        "source_file": "github/syncs/issues.py",
        "line": 5,
        "endpoints": [{"method": "GET", "path": "/issues"}],
    }
    assert create["kind"] == "action"
    assert (create["input"], create["output"]) == ("NewIssue", "Issue")
    assert create["description"] == "Create an issue"
    assert "frequency" not in create


def test_json_with_errors_exits_1(project: Path) -> None:
    write(project, {"github/syncs/broken.py": "def (:\n"})
    result = compile_(project, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert len(document["scripts"]) == 2
    assert document["errors"] == [
        {"type": "ProjectError", "message": "github/syncs/broken.py:1: SyntaxError: invalid syntax"}
    ]


def test_config_errors_go_to_the_group_handler(project: Path) -> None:
    (project / "nango.toml").write_text("[integrations.github\n")
    result = CliRunner().invoke(cli, ["--project", str(project), "compile"])
    assert result.exit_code == ConfigError.exit_code == 2
    assert result.stderr.startswith("Error: ") and "nango.toml" in result.stderr
    assert "Traceback" not in result.output


def test_config_error_exit_code_through_main(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nango_scripts.cli.main import main

    (project / "nango.toml").write_text("[integrations.github\n")
    with pytest.raises(SystemExit) as info:
        main(["--project", str(project), "compile"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("Error: ")
