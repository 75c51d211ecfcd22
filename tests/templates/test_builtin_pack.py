"""The built-in pack (top-level templates/): coverage, layout, tests, index, and its check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nango_scripts._template_index import INDEX_FILE, fingerprint
from nango_scripts.dsl import Pack, SyncSpec, load_pack
from nango_scripts.engine import index_document
from nango_scripts.providers import load_catalogue

PACK = Path(__file__).resolve().parents[2] / "templates"
NANGO_SCRIPTS = str(Path(sys.executable).parent / "nango-scripts")

# What the library promises (issue: coverage), by provider.
REQUIRED = {
    "github": {"issues", "pull-requests", "repositories", "create-issue"},
    "hubspot": {"contacts", "companies", "deals", "create-contact"},
    "slack": {"users", "channels", "send-message"},
    "linear": {"issues", "teams", "users", "create-issue"},
    "jira": {"issues", "projects", "create-issue"},
    "zendesk": {"tickets", "users"},
    "asana": {"tasks", "projects"},
    "notion": {"users"},
    "google-calendar": {"events", "calendars", "create-event"},
    "stripe": {"customers"},
    "intercom": {"contacts"},
    "gitlab": {"issues"},
    "salesforce": {"contacts"},
    "airtable": {"bases"},
}


@pytest.fixture(scope="module")
def templates() -> list[SyncSpec]:
    specs, errors = load_pack(Pack("builtin-test", "0", PACK))
    assert not errors, errors
    return specs  # type: ignore[return-value]


def test_the_library_covers_what_it_promises(templates: list[SyncSpec]) -> None:
    syncs = [t for t in templates if t.kind == "sync"]
    actions = [t for t in templates if t.kind == "action"]
    providers = {t.template.provider for t in templates if t.template}
    assert len(templates) >= 40 and len(syncs) >= 28 and len(actions) >= 12
    assert len(providers) >= 12
    have = {(t.template.provider, t.name) for t in templates if t.template}
    missing = sorted(
        f"{provider}/{name}"
        for provider, names in REQUIRED.items()
        for name in names
        if (provider, name) not in have
    )
    assert not missing, f"templates promised but missing: {missing}"


def test_every_provider_folder_is_a_catalogue_provider_with_a_readme(
    templates: list[SyncSpec],
) -> None:
    catalogue = load_catalogue()
    for provider in {t.template.provider for t in templates if t.template}:
        assert provider in catalogue, provider
        readme = (PACK / provider / "README.md").read_text(encoding="utf-8")
        for spec in templates:
            if spec.template and spec.template.provider == provider:
                assert f"`{spec.name}`" in readme or f"| {spec.name} " in readme, (
                    f"{provider}/README.md does not describe {spec.name}"
                )


def test_every_template_has_its_cassettes_and_snapshots(templates: list[SyncSpec]) -> None:
    problems = []
    for spec in templates:
        assert spec.template is not None
        tests = spec.template.folder / "tests"
        wanted = [spec.name]
        if spec.kind == "sync" and spec.sync_type == "incremental":
            wanted.append(f"{spec.name}@later")
        if spec.kind == "action":
            wanted.append(f"{spec.name}@error")
        for stem in wanted:
            for path in (
                tests / "cassettes" / f"{stem}.yaml",
                tests / "snapshots" / f"{stem}.json",
            ):
                if not path.is_file():
                    problems.append(str(path.relative_to(PACK)))
    assert not problems, f"missing recordings: {problems}"


def test_templates_import_their_own_files_relatively_only() -> None:
    # An absolute import of the provider folder would break once the pack is installed.
    offenders = []
    for path in PACK.glob("*/**/*.py"):
        if "tests" in path.relative_to(PACK).parts:
            continue
        provider = path.relative_to(PACK).parts[0].replace("-", "_")
        text = path.read_text(encoding="utf-8")
        if f"from {provider}." in text or f"import {provider}." in text:
            offenders.append(str(path.relative_to(PACK)))
    assert not offenders


def test_the_committed_index_is_up_to_date() -> None:
    committed = json.loads((PACK / INDEX_FILE).read_text(encoding="utf-8"))
    assert committed["fingerprint"] == fingerprint(PACK), (
        "templates/index.json is stale: run nango-scripts templates index templates"
    )
    assert committed == index_document(PACK)


@pytest.mark.slow
def test_templates_check_replays_every_cassette_of_the_pack() -> None:
    done = subprocess.run(
        [NANGO_SCRIPTS, "templates", "check", str(PACK)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "passed" in done.stdout and "failed" not in done.stdout


def test_the_catalogue_page_is_generated_from_the_pack() -> None:
    done = subprocess.run(
        [NANGO_SCRIPTS, "templates", "list", "--markdown"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = PACK.parent / "docs" / "templates-catalogue.md"
    assert page.read_text(encoding="utf-8") == done.stdout, (
        "docs/templates-catalogue.md is stale: nango-scripts templates list --markdown "
        "> docs/templates-catalogue.md"
    )
