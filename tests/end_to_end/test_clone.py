"""``nango-scripts templates clone``: what it copies (scripts, the modules they import, their
recordings), that the copy runs and overrides the template, that it never overwrites, and
its errors for refs that name nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli
from nango_scripts.dsl import Pack, load_library
from nango_scripts.scaffold import clone_templates

PACK = Path(__file__).resolve().parents[2] / "templates"
GITHUB = PACK / "github"
CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"

ISSUES_FILES = {
    "github/syncs/issues.py",
    "github/helpers.py",
    "github/models.py",
    "github/tests/cassettes/issues.yaml",
    "github/tests/cassettes/issues@later.yaml",
    "github/tests/snapshots/issues.json",
    "github/tests/snapshots/issues@later.json",
}
SYNCS_FILES = ISSUES_FILES | {
    "github/syncs/pull_requests.py",
    "github/syncs/repositories.py",
    "github/tests/cassettes/pull-requests.yaml",
    "github/tests/cassettes/pull-requests@later.yaml",
    "github/tests/cassettes/repositories.yaml",
    "github/tests/snapshots/pull-requests.json",
    "github/tests/snapshots/pull-requests@later.json",
    "github/tests/snapshots/repositories.json",
}
ACTIONS_FILES = {
    "github/actions/create_issue.py",
    "github/helpers.py",
    "github/models.py",
    "github/tests/cassettes/create-issue.yaml",
    "github/tests/cassettes/create-issue@error.yaml",
    "github/tests/snapshots/create-issue.json",
    "github/tests/snapshots/create-issue@error.json",
}


def make_project(root: Path, integrations: dict[str, str] | None = None) -> Path:
    """An empty project whose nango.toml maps integration -> provider."""
    root.mkdir(parents=True, exist_ok=True)
    toml = "".join(
        f'[integrations.{name}]\nprovider = "{provider}"\n\n'
        for name, provider in (integrations or {"github": "github"}).items()
    )
    (root / "nango.toml").write_text(toml)
    return root


def invoke(project: Path, *args: str) -> Result:
    env = {"NANGO_SCRIPTS_PROJECT": str(project), "NANGO_SCRIPTS_DATABASE_URL": None}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def clone(project: Path, *args: str) -> Result:
    return invoke(project, "templates", "clone", *args)


def files_of(project: Path) -> set[str]:
    """Every file of the project but nango.toml and local state."""
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file()
        and path.name != "nango.toml"
        and not {".nango", "__pycache__"} & set(path.relative_to(project).parts)
    }


def reported(result: Result, word: str) -> set[str]:
    """The paths of ``result``'s stdout lines ``  <word>  PATH ...``."""
    return {line.split()[1] for line in result.stdout.splitlines() if line.split()[:1] == [word]}


def compiled(project: Path) -> dict[str, Any]:
    done = invoke(project, "compile", "--json")
    assert done.exit_code == 0, done.output
    document: dict[str, Any] = json.loads(done.stdout)
    return document


# --------------------------------------------------------------------------- what is copied


def test_clone_one_sync_copies_it_what_it_imports_and_its_recordings(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    done = clone(project, "github/issues")
    assert done.exit_code == 0, done.output
    assert files_of(project) == ISSUES_FILES
    assert reported(done, "copied") == ISSUES_FILES
    for path in ISSUES_FILES:
        source = GITHUB / Path(path).relative_to("github")
        assert (project / path).read_bytes() == source.read_bytes(), path
    assert "Cloned 1 script(s) into github/: issues." in done.stdout
    assert "Note:" not in done.stderr  # the integration is in nango.toml

    document = compiled(project)
    assert document["errors"] == []
    [script] = document["scripts"]
    assert (script["integration"], script["name"]) == ("github", "issues")
    assert script["source_file"] == "github/syncs/issues.py"
    assert "template" not in script


@pytest.mark.slow
def test_the_cloned_project_replays_its_copied_cassettes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    assert clone(project, "github/issues").exit_code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "test"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "issues@later" in done.stdout  # the incremental recording came along and ran


def test_the_project_copy_overrides_the_enabled_template(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    assert clone(project, "github/issues").exit_code == 0
    enabled = invoke(project, "templates", "enable", "github", "issues", "pull-requests")
    assert enabled.exit_code == 0, enabled.output

    scripts = {(s["integration"], s["name"]): s for s in compiled(project)["scripts"]}
    assert sorted(scripts) == [("github", "issues"), ("github", "pull-requests")]
    # issues is the project's copy; pull-requests, not cloned, is still the template
    assert "template" not in scripts["github", "issues"]
    assert scripts["github", "issues"]["source_file"] == "github/syncs/issues.py"
    assert scripts["github", "pull-requests"]["template"] == "builtin:github/pull-requests"


@pytest.mark.parametrize(
    ("ref", "scripts", "expected"),
    [
        ("github/syncs", "issues, pull-requests, repositories", SYNCS_FILES),
        ("github/actions", "create-issue", ACTIONS_FILES),
        ("github/syncs/issues", "issues", ISSUES_FILES),
        ("github/actions/create-issue", "create-issue", ACTIONS_FILES),
        (
            "github",
            "issues, pull-requests, repositories, create-issue",
            SYNCS_FILES | ACTIONS_FILES,
        ),
    ],
)
def test_a_ref_selects_its_scripts_and_only_their_files(
    tmp_path: Path, ref: str, scripts: str, expected: set[str]
) -> None:
    project = make_project(tmp_path / "proj")
    done = clone(project, ref)
    assert done.exit_code == 0, done.output
    assert f"into github/: {scripts}." in done.stdout
    assert files_of(project) == expected
    # never the pack's fixtures nor its README: they describe the template, not the project
    assert not (project / "github" / "tests" / "fixtures").exists()
    assert not (project / "github" / "README.md").exists()
    assert compiled(project)["errors"] == []


def test_integration_option_copies_into_that_folder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj", {"work": "github"})
    done = clone(project, "github/issues", "--integration", "work")
    assert done.exit_code == 0, done.output
    assert files_of(project) == {p.replace("github/", "work/", 1) for p in ISSUES_FILES}
    assert "Cloned 1 script(s) into work/: issues." in done.stdout
    assert "Note:" not in done.stderr
    [script] = compiled(project)["scripts"]
    assert (script["integration"], script["name"]) == ("work", "issues")
    assert "template" not in script


def test_clone_into_an_integration_missing_from_nango_toml_says_what_to_add(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "proj")
    done = clone(project, "github/repositories", "--integration", "other")
    assert done.exit_code == 0, done.output
    assert (project / "other" / "syncs" / "repositories.py").is_file()
    assert not (project / "github").exists()
    assert '[integrations.other] with provider = "github"' in done.stderr


# --------------------------------------------------------------------------- never overwrites


def test_clone_never_overwrites_a_changed_file_and_reports_it(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    assert clone(project, "github/issues").exit_code == 0
    models = project / "github" / "models.py"
    mine = models.read_text() + "\n# my own change\n"
    models.write_text(mine)

    done = clone(project, "github/issues")
    assert done.exit_code == 0, done.output
    assert models.read_text() == mine
    assert reported(done, "kept") == {"github/models.py"}
    assert "kept    github/models.py (yours differs from the template's" in done.stdout
    assert reported(done, "same") == ISSUES_FILES - {"github/models.py"}
    assert reported(done, "copied") == set()

    # a wider clone copies only what is new and still keeps models.py
    wider = clone(project, "github/syncs")
    assert wider.exit_code == 0, wider.output
    assert reported(wider, "copied") == SYNCS_FILES - ISSUES_FILES
    assert reported(wider, "kept") == {"github/models.py"}
    assert models.read_text() == mine


# --------------------------------------------------------------------------- bad refs


@pytest.mark.parametrize(
    ("ref", "message", "what_exists"),
    [
        ("nope", 'no templates for provider "nope"', "github, gitlab"),
        ("nope/issues", 'no templates for provider "nope"', "github, gitlab"),
        ("githib/issues", '(did you mean "github"', "github, gitlab"),
        (
            "github/nope",
            'provider "github" has no template "nope"',
            "issues, pull-requests, repositories, create-issue",
        ),
        (
            "github/actions/issues",
            'github/issues is a sync, not in "github/actions/issues"',
            "create-issue",
        ),
        (
            "github/syncs/create-issue",
            "github/create-issue is an action",
            "issues, pull-requests, repositories",
        ),
        ("airtable/actions", 'provider "airtable" has no action templates', "bases, tables"),
        ("github/a/b/c", '"github/a/b/c" does not name templates', "PROVIDER/NAME"),
        ("github/syncs/issues/x", "does not name templates", "PROVIDER/NAME"),
    ],
)
def test_a_ref_naming_nothing_exits_2_naming_what_exists(
    tmp_path: Path, ref: str, message: str, what_exists: str
) -> None:
    project = make_project(tmp_path / "proj")
    done = clone(project, ref)
    assert done.exit_code == 2, done.output
    assert message in done.stderr
    assert what_exists in done.stderr
    assert "Traceback" not in done.output
    assert files_of(project) == set()


# --------------------------------------------------------------------------- imports


def test_imports_are_followed_transitively_with_their_packages(tmp_path: Path) -> None:
    """A pack whose sync imports a helper package that imports the models: every module
    on the way comes along (and the package's __init__.py, which the import runs), the
    modules nobody imports do not."""
    provider = tmp_path / "pack" / "acme"
    files = {
        "models.py": "from pydantic import BaseModel\n\n\nclass Thing(BaseModel):\n    id: str\n",
        "lib/__init__.py": "PAGE_SIZE = 50\n",
        "lib/convert.py": (
            "from ..models import Thing\nfrom . import PAGE_SIZE\n\n\n"
            "def to_thing(raw: dict) -> Thing:\n    return Thing(id=str(raw['id'] + PAGE_SIZE))\n"
        ),
        "helpers.py": "LIMIT = 10\n",
        "unused.py": "X = 1\n",
        "syncs/things.py": (
            "from nango_scripts import NangoSync, sync\n\n"
            "from .. import helpers\nfrom ..lib.convert import to_thing\nfrom ..models import Thing\n\n\n"
            '@sync(name="things", models=[Thing], frequency="every hour")\n'
            "async def things(nango: NangoSync) -> None:\n"
            "    await nango.batch_save([to_thing({'id': helpers.LIMIT})], Thing)\n"
        ),
    }
    for name, text in files.items():
        (provider / name).parent.mkdir(parents=True, exist_ok=True)
        (provider / name).write_text(text)
    library = load_library([Pack("transitive", "1.0.0", tmp_path / "pack")])
    assert library.errors == ()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "nango.toml").write_text(
        '[integrations.acme]\nbase_url = "http://127.0.0.1:9"\nauth = "none"\n'
    )

    report = clone_templates(library, "acme/things", project)
    assert report.scripts == ["things"]
    assert set(report.copied) == {
        "acme/syncs/things.py",
        "acme/helpers.py",
        "acme/lib/__init__.py",
        "acme/lib/convert.py",
        "acme/models.py",
    }
    assert not (project / "acme" / "unused.py").exists()
    document = compiled(project)
    assert document["errors"] == []
    assert [s["name"] for s in document["scripts"]] == ["things"]
