"""``load_project``: real project folders in ``tmp_path``, imported as the CLI would."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from nango_scripts.dsl import ActionSpec, Project, SyncSpec, load_project
from nango_scripts.errors import ProjectError, ScriptDefinitionError, ScriptNotFoundError

MODELS = """
from pydantic import BaseModel

class Issue(BaseModel):
    id: str
    title: str

class NewIssue(BaseModel):
    title: str
"""

ISSUES_SYNC = """
from nango_scripts.dsl import sync
from ..models import Issue

@sync(models=[Issue], frequency="every 30 minutes")
async def issues(nango) -> None:
    pass
"""

CREATE_ACTION = """
from nango_scripts.dsl import action
from github.models import Issue, NewIssue

@action(input=NewIssue, output=Issue)
def create_issue(nango, input):
    return Issue(id="1", title=input.title)
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
            "github/models.py": MODELS,
            "github/syncs/issues.py": ISSUES_SYNC,
            "github/actions/create_issue.py": CREATE_ACTION,
        },
    )


def names(project: Project) -> list[tuple[str | None, str]]:
    return [(s.integration, s.name) for s in project.scripts]


def messages(project: Project) -> list[str]:
    return [str(e) for e in project.errors]


# --------------------------------------------------------------------------- discovery


def test_finds_syncs_and_actions(project: Path) -> None:
    loaded = load_project(project)
    assert loaded.errors == ()
    assert loaded.project_dir == project.resolve()
    assert loaded.integrations == ("github",)
    assert names(loaded) == [("github", "issues"), ("github", "create_issue")]  # syncs first
    issues = loaded.find("issues")
    assert isinstance(issues, SyncSpec)
    assert issues.source_file == (project / "github/syncs/issues.py").resolve()
    assert issues.line == 5
    create = loaded.find("create_issue")
    assert isinstance(create, ActionSpec)
    assert create.is_async is False


def test_what_is_skipped_and_what_is_not(tmp_path: Path) -> None:
    sync_named = """
        from pydantic import BaseModel
        from nango_scripts.dsl import sync

        class Row(BaseModel):
            id: int

        @sync(models=[Row], frequency="every hour")
        def {name}(nango):
            pass
        """
    write(
        tmp_path,
        {
            "github/syncs/nested/deep.py": sync_named.format(name="deep"),
            "github/syncs/__init__.py": sync_named.format(name="in_init"),
            "github/syncs/_helpers.py": sync_named.format(name="helper"),
            "github/syncs/test_issues.py": sync_named.format(name="a_test"),
            "github/syncs/.hidden/x.py": sync_named.format(name="hidden"),
            "github/syncs/notes.txt": "not python",
            "github/tests/test_x.py": "raise RuntimeError('never imported')",
            ".nango/syncs/x.py": sync_named.format(name="state"),
            "tests/syncs/x.py": sync_named.format(name="project_tests"),
            "_private/syncs/x.py": sync_named.format(name="private"),
            "venv/syncs/x.py": sync_named.format(name="venv"),
            "docs/readme.py": sync_named.format(name="not_an_integration"),
            "slack/actions/hello.py": """
                from nango_scripts.dsl import action

                @action()
                async def hello(nango):
                    return None
                """,
        },
    )
    loaded = load_project(tmp_path)
    assert loaded.errors == ()
    assert loaded.integrations == ("github", "slack")
    assert names(loaded) == [("github", "in_init"), ("github", "deep"), ("slack", "hello")]


def test_shared_models_are_the_same_classes_whichever_import_style(project: Path) -> None:
    write(
        project,
        {
            "github/actions/check.py": """
                from nango_scripts.dsl import action
                import github.models
                from .. import models
                from ..models import Issue

                assert github.models is models
                assert github.models.Issue is Issue

                @action(output=Issue)
                async def check(nango):
                    return None
                """
        },
    )
    loaded = load_project(project)
    assert loaded.errors == ()
    issues = loaded.find("issues")
    create = loaded.find("create_issue")
    assert isinstance(issues, SyncSpec) and isinstance(create, ActionSpec)
    assert issues.models[0] is create.output  # relative vs absolute import: one class


def test_folder_and_file_names_with_hyphens(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "google-calendar/models.py": MODELS,
            "google-calendar/actions/create-event.py": """
                from nango_scripts.dsl import action
                from ..models import Issue

                @action(output=Issue)
                async def create_event(nango):
                    return None
                """,
        },
    )
    loaded = load_project(tmp_path)
    assert loaded.errors == ()
    assert names(loaded) == [("google-calendar", "create_event")]


def test_integration_comes_from_the_folder_unless_given(project: Path) -> None:
    write(
        project,
        {
            "github/syncs/mirrored.py": """
                from nango_scripts.dsl import sync
                from ..models import Issue

                @sync(models=[Issue], frequency="every day", integration="github-enterprise")
                async def mirrored(nango):
                    pass
                """
        },
    )
    loaded = load_project(project)
    assert loaded.find("issues").integration == "github"
    assert loaded.find("mirrored").integration == "github-enterprise"
    assert loaded.find("mirrored", integration="github-enterprise").name == "mirrored"


def test_scripts_imported_from_another_file_are_counted_once(project: Path) -> None:
    write(
        project,
        {
            "github/syncs/all.py": """
                from .issues import issues as also_issues
                from nango_scripts.dsl import sync
                from ..models import Issue

                @sync(models=[Issue], frequency="every day")
                async def everything(nango):
                    pass

                same_spec_twice = everything
                """
        },
    )
    loaded = load_project(project)
    assert loaded.errors == ()
    assert sorted(name for _, name in names(loaded)) == ["create_issue", "everything", "issues"]


def test_only_the_integrations_asked_for(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "github/models.py": MODELS,
            "github/syncs/issues.py": ISSUES_SYNC,
            "slack/syncs/broken.py": "this is not python",
        },
    )
    loaded = load_project(tmp_path, integrations=["github", "jira"])
    assert names(loaded) == [("github", "issues")]
    assert loaded.integrations == ("github", "slack")
    [error] = loaded.errors
    assert isinstance(error, ProjectError)
    assert 'no integration folder "jira"' in str(error)
    assert "Integration folders: github, slack." in str(error)


def test_missing_project_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nope")


def test_empty_project(tmp_path: Path) -> None:
    loaded = load_project(tmp_path)
    assert (loaded.scripts, loaded.errors, loaded.integrations) == ((), (), ())


# --------------------------------------------------------------------------- errors


def test_syntax_error_is_reported_with_file_and_line(project: Path) -> None:
    write(project, {"github/syncs/broken.py": "import os\n\ndef issues(nango:\n    pass\n"})
    loaded = load_project(project)
    [error] = loaded.errors
    assert loaded.broken_files == (project / "github" / "syncs" / "broken.py",)
    assert isinstance(error, ProjectError)
    assert str(error).startswith("github/syncs/broken.py:3: SyntaxError: ")
    assert "Traceback" not in str(error)
    assert names(loaded) == [("github", "issues"), ("github", "create_issue")]  # others load


def test_every_broken_file_is_reported(project: Path) -> None:
    write(
        project,
        {
            "github/syncs/a_syntax.py": "def (:\n",
            "github/syncs/b_import.py": "import os\nimport no_such_module_here\n",
            "github/syncs/c_runtime.py": "x = 1\ny = {}['missing']\n",
            "github/syncs/d_definition.py": """
                from nango_scripts.dsl import sync
                from ..models import NewIssue

                @sync(models=[NewIssue], frequency="every hour")
                async def new_issues(nango):
                    pass
                """,
            "github/actions/e_exit.py": "import sys\nsys.exit(3)\n",
        },
    )
    loaded = load_project(project)
    assert messages(loaded) == [
        "github/syncs/a_syntax.py:1: SyntaxError: invalid syntax",
        "github/syncs/b_import.py:2: ModuleNotFoundError: No module named 'no_such_module_here'",
        "github/syncs/c_runtime.py:2: KeyError: 'missing'",
        'github/syncs/d_definition.py:5, sync "new_issues": model NewIssue has no "id" field.\n'
        'Add "id: str" (or int) to NewIssue.',
        "github/actions/e_exit.py:2: SystemExit: 3",
    ]
    assert isinstance(loaded.errors[3], ScriptDefinitionError)
    assert names(loaded) == [("github", "issues"), ("github", "create_issue")]
    broken = ["a_syntax", "b_import", "c_runtime", "d_definition"]
    assert loaded.broken_files == (
        *(project / "github" / "syncs" / f"{name}.py" for name in broken),
        project / "github" / "actions" / "e_exit.py",
    )


def test_a_broken_shared_file_is_reported_once(project: Path) -> None:
    write(project, {"github/models.py": "from pydantic import BaseModel\nclass Issue(BaseModel:\n"})
    loaded = load_project(project)
    [error] = loaded.errors
    assert str(error) == (
        "github/models.py:2: SyntaxError: invalid syntax\n"
        "Importing github/syncs/issues.py, github/actions/create_issue.py failed because of it."
    )
    assert loaded.scripts == ()
    # the files that could not be imported are the scripts' own, not the shared one
    assert loaded.broken_files == (
        project / "github" / "syncs" / "issues.py",
        project / "github" / "actions" / "create_issue.py",
    )


def test_file_names_with_dots_are_reported(project: Path) -> None:
    write(project, {"github/syncs/issues.v2.py": ISSUES_SYNC})
    loaded = load_project(project)
    assert messages(loaded) == [
        'github/syncs/issues.v2.py: a file name with a dot cannot be imported. Rename it (e.g. "issues_v2.py").'
    ]


def test_duplicate_names_across_files_name_both_files(project: Path) -> None:
    write(
        project,
        {
            "github/syncs/more.py": """
                from nango_scripts.dsl import action

                @action(name="issues")
                async def other(nango):
                    pass
                """
        },
    )
    loaded = load_project(project)
    [error] = loaded.errors
    assert isinstance(error, ProjectError)
    assert str(error) == (
        'two scripts are named "issues" in integration github: '
        "github/syncs/issues.py:5 and github/syncs/more.py:4.\n"
        'Names are unique per integration: rename one with name="...".'
    )
    assert isinstance(loaded.find("issues"), SyncSpec)  # the first one is kept


def test_same_name_in_two_integrations_is_fine(project: Path) -> None:
    write(project, {"gitlab/models.py": MODELS, "gitlab/syncs/issues.py": ISSUES_SYNC})
    loaded = load_project(project)
    assert loaded.errors == ()
    assert loaded.find("issues", integration="gitlab").integration == "gitlab"


# --------------------------------------------------------------------------- reload


def test_reload_picks_up_an_edited_file(project: Path) -> None:
    first = load_project(project)
    assert first.find("issues").frequency == "every 30 minutes"
    # Same size, same second: a bytecode cache keyed on mtime and size would be stale.
    sync_file = project / "github/syncs/issues.py"
    sync_file.write_text(ISSUES_SYNC.replace("every 30 minutes", "every 45 minutes"))
    (project / "github/models.py").write_text(MODELS.replace("title: str", "title: int", 1))
    second = load_project(project)
    issues = second.find("issues")
    assert isinstance(issues, SyncSpec)
    assert issues.frequency == "every 45 minutes"
    assert issues.models[0].model_fields["title"].annotation is int
    assert issues.func is not first.find("issues").func
    assert not list(project.rglob("__pycache__"))


def test_reload_sees_new_and_removed_files(project: Path) -> None:
    load_project(project)
    (project / "github/actions/create_issue.py").unlink()
    write(
        project,
        {"github/actions/close_issue.py": CREATE_ACTION.replace("create_issue", "close_issue")},
    )
    assert names(load_project(project)) == [("github", "issues"), ("github", "close_issue")]


def test_reload_after_fixing_an_error(project: Path) -> None:
    broken = project / "github/syncs/issues.py"
    broken.write_text("def (:\n")
    assert len(load_project(project).errors) == 1
    broken.write_text(ISSUES_SYNC)
    assert load_project(project).errors == ()


def test_loading_another_project_replaces_the_first(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = write(
        tmp_path_factory.mktemp("other"),
        {
            "github/models.py": MODELS.replace("Issue", "Ticket"),
            "github/syncs/tickets.py": ISSUES_SYNC.replace("Issue", "Ticket").replace(
                "issues", "tickets"
            ),
        },
    )
    load_project(project)
    loaded = load_project(other)
    assert loaded.errors == ()
    assert names(loaded) == [("github", "tickets")]


# --------------------------------------------------------------------------- installed packages


@pytest.fixture
def installed_package(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An installed package called like an integration folder: ``acme_sdk``."""
    site = tmp_path_factory.mktemp("site")
    write(site, {"acme_sdk/__init__.py": "SDK = True\n"})
    monkeypatch.syspath_prepend(str(site))
    yield "acme_sdk"
    for name in [n for n in sys.modules if n == "acme_sdk" or n.startswith("acme_sdk.")]:
        del sys.modules[name]


def test_an_installed_package_wins_over_an_integration_of_the_same_name(
    tmp_path: Path, installed_package: str
) -> None:
    write(
        tmp_path,
        {
            f"{installed_package}/models.py": MODELS,
            f"{installed_package}/syncs/issues.py": """
                import acme_sdk
                from nango_scripts.dsl import sync
                from ..models import Issue

                assert acme_sdk.SDK

                @sync(models=[Issue], frequency="every hour")
                async def issues(nango):
                    pass
                """,
            f"{installed_package}/actions/create_issue.py": CREATE_ACTION.replace(
                "github", installed_package
            ),
        },
    )
    loaded = load_project(tmp_path)
    assert names(loaded) == [("acme_sdk", "issues")]
    [error] = messages(loaded)
    assert error.startswith(
        "acme_sdk/actions/create_issue.py:3: ModuleNotFoundError: No module named 'acme_sdk.models'"
    )
    assert 'an installed package is also called "acme_sdk"' in error
    assert "from ..models import" in error


# --------------------------------------------------------------------------- find


def test_find_suggests_close_names(project: Path) -> None:
    loaded = load_project(project)
    with pytest.raises(ScriptNotFoundError) as info:
        loaded.find("isues")
    assert str(info.value) == 'no script named "isues".\nDid you mean "issues"?'
    assert info.value.exit_code == 2


def test_find_lists_the_scripts_when_nothing_is_close(project: Path) -> None:
    with pytest.raises(ScriptNotFoundError, match=r"Scripts: create_issue, issues\."):
        load_project(project).find("zzz")


def test_find_in_the_wrong_integration(project: Path) -> None:
    with pytest.raises(ScriptNotFoundError) as info:
        load_project(project).find("issues", integration="slack")
    assert str(info.value) == (
        'no script named "issues" in integration "slack".\nIt exists in integration github.'
    )


def test_find_an_ambiguous_name_asks_for_the_integration(project: Path) -> None:
    write(project, {"gitlab/models.py": MODELS, "gitlab/syncs/issues.py": ISSUES_SYNC})
    with pytest.raises(ScriptNotFoundError) as info:
        load_project(project).find("issues")
    assert str(info.value) == (
        'a script named "issues" exists in several integrations: github, gitlab.\n'
        "Pass --integration to say which one."
    )


def test_find_mentions_load_errors(project: Path) -> None:
    write(project, {"github/syncs/broken.py": "def (:\n"})
    with pytest.raises(ScriptNotFoundError, match=r"1 error\(s\) kept scripts from loading"):
        load_project(project).find("broken")
