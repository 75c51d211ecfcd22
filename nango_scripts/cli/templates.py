"""``nango-scripts templates``: the template library (docs/templates.md).

``list`` and ``show`` read the installed packs; ``enable`` and ``disable`` write the
project's database (a running ``serve`` or ``dev`` applies the change within a second);
``clone`` copies a template into the project; ``check`` compiles a pack and replays its
cassettes; ``package`` turns a project's integration folders into an installable pack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nango_scripts.cli._common import project_option

if TYPE_CHECKING:
    from nango_scripts._template_index import Pack
    from nango_scripts.dsl import TemplateLibrary


@click.group("templates")
def templates_group() -> None:
    """The template library: list, show, enable, disable, clone, check, package."""


def _library() -> TemplateLibrary:
    from nango_scripts.dsl import load_library

    library = load_library()
    for clash in library.clashes:
        click.echo(f"Note: {clash}", err=True)
    for error in library.errors:
        click.echo(f"Warning: {error}", err=True)
    return library


@templates_group.command("list")
@click.option("--provider", help="Only the templates of this provider.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def list_cmd(provider: str | None, as_json: bool) -> None:
    """Every template of the installed packs, with its pack and version."""
    from nango_scripts.errors import TemplateError

    packs, rows, clashes = _rows()
    known = sorted({r["provider"] for r in rows})
    if provider is not None:
        if provider not in known:
            raise TemplateError(
                f'no templates for provider "{provider}".',
                hint=f"Providers with templates: {', '.join(known) or 'none'}.",
            )
        rows = [r for r in rows if r["provider"] == provider]
    if as_json:
        document = {
            "templates": rows,
            "packs": [
                {"name": p.name, "version": p.version, "folder": str(p.folder)} for p in packs
            ],
            "clashes": clashes,
        }
        click.echo(json.dumps(document, indent=2))
        return
    headers = ("TEMPLATE", "KIND", "MODELS", "FREQUENCY", "PACK")
    table = [
        (
            f"{r['provider']}/{r['name']}",
            r["kind"],
            ", ".join(r["models"]),
            f"{r['frequency']} ({r['sync_type']})" if r["kind"] == "sync" else "-",
            f"{r['pack']} {r['pack_version']}",
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *table, strict=False)]
    for line in (headers, *table):
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    syncs = sum(1 for r in rows if r["kind"] == "sync")
    click.echo(
        f"\n{len(rows)} templates ({syncs} syncs, {len(rows) - syncs} actions) of "
        f"{len({r['provider'] for r in rows})} providers. Enable one: nango-scripts templates enable INTEGRATION NAME"
    )


def _rows() -> tuple[list[Pack], list[dict[str, Any]], list[str]]:
    """Every pack's templates as rows: from the packs' indexes when they are all up to
    date (fast: nothing is imported), else by importing the templates."""
    from nango_scripts._template_index import (
        discover_packs,
        ordered_packs,
        pick_winners,
        read_index,
    )

    packs, errors = discover_packs()
    packs = ordered_packs(packs)
    indexed = [read_index(p) for p in packs]
    if not errors and all(rows is not None for rows in indexed):
        entries = [
            (pack, row["provider"], row["name"], row)
            for pack, rows in zip(packs, indexed, strict=True)
            for row in rows or ()
        ]
        rows, clashes = pick_winners(entries)
        for clash in clashes:
            click.echo(f"Note: {clash}", err=True)
        return packs, rows, clashes
    from nango_scripts.engine import describe

    library = _library()
    return list(library.packs), [describe(s) for s in library.templates], list(library.clashes)


@templates_group.command("index")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
def index_cmd(folder: Path | None) -> None:
    """Write FOLDER/index.json (default: the current folder), the summary of a pack that
    `templates list` reads instead of importing every template."""
    from nango_scripts._template_index import INDEX_FILE
    from nango_scripts.engine import index_document

    target = (folder or Path.cwd()).resolve()
    document = index_document(target)
    (target / INDEX_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    click.echo(f"Wrote {target / INDEX_FILE} ({len(document['templates'])} templates).")


@templates_group.command("show")
@click.argument("ref", metavar="PROVIDER/NAME")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def show_cmd(ref: str, as_json: bool) -> None:
    """Everything about one template: models and fields, schedule, scopes, metadata."""
    from nango_scripts.engine import describe

    spec = _library().find(ref)
    info = describe(spec)
    assert spec.template is not None
    info["file"] = str(spec.source_file) if spec.source_file else None
    info["readme"] = str(spec.template.folder / "README.md")
    models = [*getattr(spec, "models", ()), *[getattr(spec, k, None) for k in ("input", "output")]]
    meta = getattr(spec, "metadata", None)
    schemas = {m.__name__: m.model_json_schema() for m in [*models, meta] if m is not None}
    if as_json:
        click.echo(json.dumps({**info, "schemas": schemas}, indent=2))
        return
    click.echo(
        f"{info['provider']}/{info['name']} ({info['kind']}), pack {info['pack']} "
        f"{info['pack_version']}"
    )
    if info["description"]:
        click.echo(f"  {info['description']}")
    for key in ("frequency", "sync_type", "track_deletes", "auto_start", "input", "output"):
        if info.get(key) is not None:
            click.echo(f"  {key}: {info[key]}")
    click.echo(f"  scopes: {', '.join(info['scopes']) or 'none'}")
    if info.get("metadata"):
        click.echo(f"  connection metadata: {', '.join(info['metadata'])}")
    for name, schema in schemas.items():
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        click.echo(f"  model {name}:")
        for field, detail in props.items():
            kind = detail.get("type") or " | ".join(
                str(a.get("type", a.get("$ref", "?")).rsplit("/", 1)[-1])
                for a in detail.get("anyOf", [])
            )
            click.echo(f"    {field}: {kind}{'' if field in required else ' (optional)'}")
    click.echo(f"  file: {info['file']}\n  readme: {info['readme']}")


def _set(ctx: click.Context, integration: str, names: tuple[str, ...], enabled: bool) -> None:
    from nango_scripts.engine import set_templates
    from nango_scripts.settings import load_settings
    from nango_scripts.store import ScheduleStore

    settings = load_settings(project_option(ctx))
    library = _library()
    with ScheduleStore.open(settings.database_url) as schedules:
        specs = set_templates(
            schedules, settings, integration, list(names), enabled=enabled, library=library
        )
    verb = "Enabled" if enabled else "Disabled"
    shown = ", ".join(f"{s.template.provider}/{s.name}" for s in specs if s.template)
    click.echo(f"{verb} {shown} for integration {integration}.")
    if enabled:
        click.echo(
            "Its syncs run for every connection of the integration (a running serve or dev "
            "picks this up within a second)."
        )
    else:
        click.echo("Their schedules stop; the records already synced are kept.")


@templates_group.command("enable")
@click.argument("integration")
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def enable_cmd(ctx: click.Context, integration: str, names: tuple[str, ...]) -> None:
    """Enable templates NAMES (of the integration's provider) for INTEGRATION."""
    _set(ctx, integration, names, True)


@templates_group.command("disable")
@click.argument("integration")
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def disable_cmd(ctx: click.Context, integration: str, names: tuple[str, ...]) -> None:
    """Disable templates NAMES for INTEGRATION; their records are kept."""
    _set(ctx, integration, names, False)


@templates_group.command("clone")
@click.argument("ref", metavar="PROVIDER[/syncs|/actions][/NAME]")
@click.option("--integration", help="The project's integration folder (default: PROVIDER).")
@click.pass_context
def clone_cmd(ctx: click.Context, ref: str, integration: str | None) -> None:
    """Copy templates, and the models and helpers they import, into the project.

    Never overwrites a file: one that exists is kept and reported. The copy then
    overrides the template (same integration and name).
    """
    from nango_scripts.scaffold import clone_templates
    from nango_scripts.settings import load_settings

    settings = load_settings(project_option(ctx))
    report = clone_templates(_library(), ref, settings.project_dir, integration)
    for path in report.copied:
        click.echo(f"  copied  {path}")
    for path in report.same:
        click.echo(f"  same    {path} (already there)")
    for path in report.kept:
        click.echo(f"  kept    {path} (yours differs from the template's: not overwritten)")
    target = report.integration
    click.echo(
        f"Cloned {len(report.scripts)} script(s) into {target}/: "
        f"{', '.join(report.scripts)}. They now override the templates of the same name."
    )
    if target not in settings.integrations:
        click.echo(
            f'Note: add [integrations.{target}] with provider = "{report.provider}" to '
            "nango.toml to run them.",
            err=True,
        )


@templates_group.command("check")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def check_cmd(ctx: click.Context, folder: Path | None) -> None:
    """Compile the pack in FOLDER (default: the current one) and replay every cassette of
    its templates against its snapshot; exit 1 on any problem."""
    from nango_scripts.testing import check_pack

    result = check_pack((folder or Path.cwd()).resolve(), echo=click.echo)
    ctx.exit(0 if result else 1)


@templates_group.command("package")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", required=True, help="The pack's (and distribution's) name.")
@click.option("--version", "version", required=True, help="Its version, e.g. 1.0.0.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Default: DIR/dist.")
@click.pass_context
def package_cmd(
    ctx: click.Context, folder: Path | None, name: str, version: str, out: Path | None
) -> None:
    """Turn the integration folders of the project in FOLDER into a template pack and build
    its wheel (pip install it beside nango-scripts to add its templates)."""
    from nango_scripts.scaffold import package_pack
    from nango_scripts.settings import load_settings

    settings = load_settings(str(folder) if folder else project_option(ctx))
    built = package_pack(settings, name, version, out or settings.project_dir / "dist")
    click.echo(
        f"Built {built.wheel} ({len(built.templates)} templates of {', '.join(built.providers)})."
    )
    click.echo(f"Install it with: pip install {built.wheel}")
