"""Templates enabled per integration: what is served, what is refused, what overrides what.

A small pack is written for each test, so that the rules are checked independently of
the built-in templates (tests/templates/ checks those)."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from nango_scripts.dsl import Pack, TemplateLibrary, load_library, load_project
from nango_scripts.engine import check_templates, compose, set_templates, template_rows
from nango_scripts.errors import TemplateError
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import run_script
from nango_scripts.settings import Settings
from nango_scripts.store import Connection, MemoryRecordStore, ScheduleStore

MODELS = """
from pydantic import BaseModel

class Ticket(BaseModel):
    id: str

class Needs(BaseModel):
    owner: str
    repo: str
    labels: list[str] | None = None
"""

SYNC = """
from nango_scripts import NangoSync, sync
from ..models import Needs, Ticket

@sync(name="{name}", models=[Ticket], frequency="every hour", metadata={metadata},
      description="{name} of {provider}")
async def run(nango: NangoSync) -> None:
    await nango.batch_save([Ticket(id="1")], Ticket)
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def _pack(root: Path, name: str = "acme") -> Pack:
    for provider in ("github", "gitlab"):
        _write(
            root / provider,
            {
                "models.py": MODELS,
                "syncs/tickets.py": SYNC.format(name="tickets", provider=provider, metadata=None),
                "syncs/needy.py": SYNC.format(name="needy", provider=provider, metadata="Needs"),
            },
        )
    _write(
        root / "gitlab",
        {
            "syncs/only_gitlab.py": SYNC.format(
                name="merge-requests", provider="gitlab", metadata=None
            )
        },
    )
    return Pack(name, "1.0.0", root)


@pytest.fixture
def library(tmp_path: Path) -> TemplateLibrary:
    return load_library([_pack(tmp_path / "pack")])


def _settings(project: Path, **templates: tuple[str, ...]) -> Settings:
    return Settings(
        project_dir=project,
        database_url=f"sqlite:///{project}/.nango/nango.db",
        integrations=MappingProxyType(
            {
                "github": ProviderConfig(
                    name="github", base_url="https://api.example", auth="none"
                ),
                "gh-two": ProviderConfig(
                    name="github", base_url="https://api.example", auth="none"
                ),
                "gitlab": ProviderConfig(name="gitlab", base_url="https://gl.example", auth="none"),
            }
        ),
        integration_templates=MappingProxyType(templates),
    )


def _project(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    _write(project, files or {})
    return project


def test_an_enabled_template_is_served_for_its_integration_only(
    tmp_path: Path, library: TemplateLibrary
) -> None:
    project = _project(tmp_path)
    served = compose(load_project(project), _settings(project), {"gh-two": ["tickets"]}, library)
    assert [(s.integration, s.name) for s in served.scripts] == [("gh-two", "tickets")]
    spec = served.scripts[0]
    assert spec.template is not None and spec.template.provider == "github"
    assert spec.template.pack == "acme" and spec.template.version == "1.0.0"
    assert spec.description == "tickets of github"


def test_nango_toml_and_the_database_add_up(tmp_path: Path, library: TemplateLibrary) -> None:
    project = _project(tmp_path)
    settings = _settings(project, github=("tickets",))
    served = compose(load_project(project), settings, {"github": ["needy"]}, library)
    assert sorted(s.name for s in served.scripts) == ["needy", "tickets"]


def test_a_project_script_of_the_same_name_overrides_the_template(
    tmp_path: Path, library: TemplateLibrary
) -> None:
    project = _project(
        tmp_path,
        {
            "github/models.py": MODELS,
            "github/syncs/mine.py": SYNC.format(name="tickets", provider="mine", metadata=None),
        },
    )
    settings = _settings(project)
    loaded = load_project(project)
    served = compose(loaded, settings, {"github": ["tickets", "needy"]}, library)
    tickets = [s for s in served.scripts if s.name == "tickets"]
    assert len(tickets) == 1 and tickets[0].template is None
    assert tickets[0].description == "tickets of mine"
    rows = {
        r.spec.name: r
        for r in template_rows(settings, served, {"github": ["tickets"]}, "github", library)
    }
    assert rows["tickets"].enabled and rows["tickets"].source == "database"
    assert rows["tickets"].overridden_by is not None
    assert rows["tickets"].overridden_by.endswith("github/syncs/mine.py")
    assert not rows["needy"].enabled and rows["needy"].overridden_by is None


def test_a_template_gone_from_the_packs_is_an_error_of_the_project(
    tmp_path: Path, library: TemplateLibrary
) -> None:
    project = _project(tmp_path)
    served = compose(load_project(project), _settings(project), {"github": ["vanished"]}, library)
    assert served.scripts == ()
    assert any('template "vanished"' in str(e) for e in served.errors)


@pytest.mark.parametrize(
    ("integration", "names", "expected"),
    [
        ("nope", ["tickets"], ['no integration "nope"', "github, gh-two, gitlab"]),
        ("github", ["tikets"], ['has no template "tikets"', "needy, tickets"]),
        ("github", ["merge-requests"], ["a template of gitlab", 'not of "github"']),
        ("github", [], ["name at least one template"]),
    ],
)
def test_enabling_a_wrong_template_names_what_exists_and_changes_nothing(
    tmp_path: Path,
    library: TemplateLibrary,
    integration: str,
    names: list[str],
    expected: list[str],
) -> None:
    project = _project(tmp_path)
    settings = _settings(project)
    with ScheduleStore.open(settings.database_url) as schedules:
        with pytest.raises(TemplateError) as raised:
            # a good name first: nothing may be enabled half-way
            set_templates(
                schedules, settings, integration, ["tickets", *names], enabled=True, library=library
            ) if names else check_templates(settings, integration, names, library)
        text = str(raised.value)
        for part in expected:
            assert part in text.replace("gh-two, github", "github, gh-two"), text
        assert schedules.enabled_templates(settings.environment) == {}
    assert raised.value.exit_code == 2


def test_a_template_enabled_in_nango_toml_cannot_be_disabled_from_the_database(
    tmp_path: Path, library: TemplateLibrary
) -> None:
    project = _project(tmp_path)
    settings = _settings(project, github=("tickets",))
    with ScheduleStore.open(settings.database_url) as schedules:
        set_templates(schedules, settings, "github", ["needy"], enabled=True, library=library)
        with pytest.raises(TemplateError, match=r"nango\.toml"):
            set_templates(
                schedules, settings, "github", ["needy", "tickets"], enabled=False, library=library
            )
        assert schedules.enabled_templates(settings.environment) == {"github": ["needy"]}
        set_templates(schedules, settings, "github", ["needy"], enabled=False, library=library)
        assert schedules.enabled_templates(settings.environment) == {}


def test_a_template_run_without_its_metadata_fails_at_once_naming_the_fields(
    library: TemplateLibrary,
) -> None:
    spec = library.get("github", "needy")
    assert spec is not None
    now = datetime.now(UTC)
    connection = Connection("github", "c1", {}, {"repo": "app"}, "dev", now, now)
    provider = ProviderConfig(name="github", base_url="http://127.0.0.1:9", auth="none")
    result = asyncio.run(
        run_script(spec, connection=connection, provider=provider, store=MemoryRecordStore())
    )
    assert result.error is not None
    assert "lacks owner" in result.error.message
    assert "github/needy" in result.error.message
    assert all(counts.saved == 0 for counts in result.models.values())
