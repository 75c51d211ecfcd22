"""``nango-scripts compile``: import and validate every script; a table of them, or every error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from nango_scripts.cli._common import project_folder
from nango_scripts.cli._printing import plural
from nango_scripts.dsl import Project, ScriptSpec
from nango_scripts.errors import NangoScriptsError
from nango_scripts.settings import load_settings

_HEADERS = ("INTEGRATION", "NAME", "KIND", "MODELS", "FREQUENCY", "ENDPOINT", "FROM")


@click.command("compile")
@click.option("--json", "as_json", is_flag=True, help="Print the scripts and errors as JSON.")
@click.pass_context
def compile_cmd(ctx: click.Context, as_json: bool) -> None:
    """Import and validate every script of the project; print a table of them.

    Exits 1, listing every problem found, if any script cannot be loaded or its
    integration is not configured in nango.toml.
    """
    from nango_scripts.engine import served_project, unconfigured_integrations

    settings = load_settings(project_folder(ctx))
    project = served_project(settings)
    errors: list[NangoScriptsError] = [
        *project.errors,
        *unconfigured_integrations(project, settings.integrations),
    ]

    if as_json:
        document = {
            "scripts": [_describe(spec, project.project_dir) for spec in project.scripts],
            "errors": [{"type": type(e).__name__, "message": str(e)} for e in errors],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        _print_table(project)
        _print_errors(errors)
    if errors:
        ctx.exit(1)


def _print_table(project: Project) -> None:
    rows: list[tuple[str, ...]] = [
        (
            str(spec.integration),
            spec.name,
            spec.kind,
            _models(spec),
            _frequency(spec),
            ", ".join(str(e) for e in spec.endpoints) or "-",
            f"template ({spec.template.pack})" if spec.template else "project",
        )
        for spec in project.scripts
    ]
    headers: tuple[str, ...] = _HEADERS
    if not any(spec.template for spec in project.scripts):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    if rows:
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            click.echo(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        click.echo()
    integrations = {spec.integration for spec in project.scripts}
    click.echo(
        f"{plural(len(project.scripts), 'script')} in {plural(len(integrations), 'integration')}"
    )


def _print_errors(errors: list[NangoScriptsError]) -> None:
    if not errors:
        return
    click.echo(f"\nError: {plural(len(errors), 'problem')} found:", err=True)
    for number, error in enumerate(errors, start=1):
        prefix = f"{number}. "
        text = str(error).replace("\n", "\n" + " " * len(prefix))
        click.echo(f"\n{prefix}{text}", err=True)


def _models(spec: ScriptSpec) -> str:
    if spec.kind == "sync":
        return ", ".join(model.__name__ for model in spec.models)
    source = spec.input.__name__ if spec.input else "-"
    target = spec.output.__name__ if spec.output else "-"
    return f"{source} -> {target}"


def _frequency(spec: ScriptSpec) -> str:
    return spec.frequency if spec.kind == "sync" else ""


def _describe(spec: ScriptSpec, project_dir: Path) -> dict[str, Any]:
    source = spec.source_file
    if source is not None and source.is_relative_to(project_dir):
        source = source.relative_to(project_dir)
    common: dict[str, Any] = {
        "integration": spec.integration,
        "name": spec.name,
        "kind": spec.kind,
        "scopes": list(spec.scopes),
        "description": spec.description,
        "version": spec.version,
        "is_async": spec.is_async,
        "source_file": source.as_posix() if source is not None else None,
        "line": spec.line,
        "endpoints": [e.to_json() for e in spec.endpoints],
    }
    if spec.template is not None:
        common["template"] = f"{spec.template.pack}:{spec.template.provider}/{spec.name}"
    if spec.kind == "sync":
        return {
            **common,
            "models": [model.__name__ for model in spec.models],
            "frequency": spec.frequency,
            "frequency_seconds": spec.frequency_seconds,
            "sync_type": spec.sync_type,
            "track_deletes": spec.track_deletes,
            "auto_start": spec.auto_start,
            "metadata": spec.metadata.__name__ if spec.metadata else None,
        }
    return {
        **common,
        "input": spec.input.__name__ if spec.input else None,
        "output": spec.output.__name__ if spec.output else None,
    }
