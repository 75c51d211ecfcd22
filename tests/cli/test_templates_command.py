"""``nango-scripts templates list/show/enable/disable/index`` and templates in compile and
dryrun, on the built-in pack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli
from nango_scripts.settings import load_settings
from nango_scripts.store import ScheduleStore

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"
PACK = Path(__file__).resolve().parents[2] / "templates"


def _run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), *args])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "nango.toml").write_text(
        '[integrations.github]\nprovider = "github"\n\n'
        '[integrations.work-hub]\nprovider = "hubspot"\n'
    )
    return tmp_path


def _enabled(project: Path) -> dict[str, list[str]]:
    settings = load_settings(project, {})
    with ScheduleStore.open(settings.database_url) as schedules:
        return schedules.enabled_templates(settings.environment)


def test_list_json_in_a_fresh_process_shows_the_whole_library() -> None:
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "templates", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    rows = document["templates"]
    assert len(rows) >= 40
    assert len({r["provider"] for r in rows}) >= 12
    assert {r["pack"] for r in rows} == {"builtin"}
    issues = next(r for r in rows if (r["provider"], r["name"]) == ("github", "issues"))
    assert issues["kind"] == "sync" and issues["models"] and issues["frequency"]
    assert document["packs"][0]["name"] == "builtin"
    assert document["clashes"] == []


def test_list_by_provider_and_as_a_table(project: Path) -> None:
    result = _run(project, "templates", "list", "--provider", "slack")
    assert result.exit_code == 0, result.output
    assert "slack/users" in result.output and "github/issues" not in result.output
    wrong = _run(project, "templates", "list", "--provider", "slak")
    assert wrong.exit_code == 2
    assert "slack" in wrong.output and "github" in wrong.output


def test_show_gives_models_fields_schedule_and_metadata(project: Path) -> None:
    result = _run(project, "templates", "show", "github/issues", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["provider"] == "github" and info["kind"] == "sync"
    model = info["models"][0]
    assert "id" in info["schemas"][model]["properties"]
    assert info["file"].endswith("issues.py") and info["readme"].endswith("README.md")
    text = _run(project, "templates", "show", "hubspot/create-contact")
    assert text.exit_code == 0 and "model " in text.output
    missing = _run(project, "templates", "show", "github/issuez")
    assert missing.exit_code == 2
    assert 'did you mean "issues"' in missing.output and "pull-requests" in missing.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["github", "repositories", "tickets"], ["tickets", "zendesk", "repositories"]),
        (["nope", "issues"], ['no integration "nope"', "github", "work-hub"]),
        (["work-hub", "issues"], ["github", 'not of "hubspot"', "contacts"]),
        (["github", "no-such-thing"], ['no template "no-such-thing"', "pull-requests"]),
    ],
)
def test_enable_refuses_what_does_not_fit_and_enables_nothing(
    project: Path, args: list[str], named: list[str]
) -> None:
    result = _run(project, "templates", "enable", *args)
    assert result.exit_code == 2, result.output
    for part in named:
        assert part in result.output
    assert "Traceback" not in result.output
    assert _enabled(project) == {}


def test_enable_then_disable_is_stored_and_shown_by_compile(project: Path) -> None:
    result = _run(project, "templates", "enable", "github", "issues", "repositories")
    assert result.exit_code == 0, result.output
    assert "github/issues, github/repositories" in result.output
    assert _enabled(project) == {"github": ["issues", "repositories"]}
    compiled = _run(project, "compile", "--json")
    assert compiled.exit_code == 0, compiled.output
    scripts = json.loads(compiled.output)["scripts"]
    assert {(s["integration"], s["name"], s["template"]) for s in scripts} == {
        ("github", "issues", "builtin:github/issues"),
        ("github", "repositories", "builtin:github/repositories"),
    }
    assert _run(project, "templates", "disable", "github", "issues").exit_code == 0
    assert _enabled(project) == {"github": ["repositories"]}


def test_nango_toml_templates_are_served_and_cannot_be_disabled_from_the_cli(
    project: Path,
) -> None:
    toml = project / "nango.toml"
    toml.write_text(
        toml.read_text().replace(
            'provider = "github"', 'provider = "github"\ntemplates = ["pull-requests"]', 1
        )
    )
    compiled = _run(project, "compile")
    assert compiled.exit_code == 0, compiled.output
    assert "pull-requests" in compiled.output and "template (builtin)" in compiled.output
    refused = _run(project, "templates", "disable", "github", "pull-requests")
    assert refused.exit_code == 2 and "nango.toml" in refused.output
    bad = project / "nango.toml"
    bad.write_text('[integrations.github]\nprovider = "github"\ntemplates = "issues"\n')
    broken = _run(project, "compile")
    assert broken.exit_code == 2 and "templates must be a list" in broken.output


def test_a_template_dry_runs_from_the_packs_cassette(project: Path) -> None:
    result = _run(project, "dryrun", "repositories", "any", "--replay", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{") :])
    expected = json.loads((PACK / "github/tests/snapshots/repositories.json").read_text())
    assert document["models"] == expected["models"]


def test_index_writes_what_list_reads(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "acme" / "syncs").mkdir(parents=True)
    (pack / "acme" / "syncs" / "things.py").write_text(
        "from pydantic import BaseModel\n"
        "from nango_scripts import NangoSync, sync\n\n"
        "class Thing(BaseModel):\n    id: str\n\n"
        '@sync(name="things", models=[Thing], frequency="every day")\n'
        "async def things(nango: NangoSync) -> None:\n    return None\n"
    )
    result = CliRunner().invoke(cli, ["templates", "index", str(pack)])
    assert result.exit_code == 0, result.output
    index = json.loads((pack / "index.json").read_text())
    assert [(t["provider"], t["name"], t["models"]) for t in index["templates"]] == [
        ("acme", "things", ["Thing"])
    ]


def test_run_stores_a_templates_records_like_a_project_sync(tmp_path: Path) -> None:
    sys.path.insert(0, str(PACK.parent / "tests"))
    from support.imitation import Imitation, load_fixture

    fixture = load_fixture(PACK / "github/tests/fixtures/repositories.json")
    with Imitation(fixture) as github:
        (tmp_path / "nango.toml").write_text(
            f'[integrations.github]\nprovider = "github"\nbase_url = "{github.base_url}"\n'
        )
        made = _run(
            tmp_path,
            "connections",
            "create",
            "github",
            "acme",
            "--credentials",
            '{"type": "OAUTH2", "access_token": "t"}',
        )
        assert made.exit_code == 0, made.output
        enabled = _run(tmp_path, "templates", "enable", "github", "repositories")
        assert enabled.exit_code == 0, enabled.output
        result = _run(tmp_path, "run", "repositories", "acme", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{") :])
    assert document["success"] is True
    expected = sum(len(r["body"]) for r in fixture.responses)
    assert document["models"]["Repository"]["added"] == expected > 0


def test_a_broken_project_file_is_not_replaced_by_a_template_of_the_same_name(
    project: Path,
) -> None:
    # github/syncs/repositories.py may define the project's own "repositories": while it
    # does not import, running the template instead would run the wrong code.
    (project / "github" / "syncs").mkdir(parents=True)
    (project / "github" / "syncs" / "repositories.py").write_text("def broken(:\n")
    result = _run(project, "dryrun", "repositories", "any", "--replay")
    assert result.exit_code == 2, result.output
    assert "could not be loaded" in result.output and "SyntaxError" in result.output
