"""``nango-scripts new sync|action NAME --integration ID``: a script and its test from templates."""

from __future__ import annotations

import keyword
import re
import tomllib
from pathlib import Path

import click

from nango_scripts.cli._common import project_folder

__all__ = ["new_group"]

# The same rule as nango.toml's integration ids (the folder name of the scripts).
_INTEGRATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# Names the templates import: a script called one of these would shadow it.
_TAKEN_NAMES = frozenset(
    {"action", "sync", "datetime", "BaseModel", "NangoAction", "NangoSync", "ActionError"}
)


@click.group("new")
def new_group() -> None:
    """Add a sync or an action (and its test) to an integration."""


_integration_option = click.option(
    "--integration",
    "-i",
    "integration",
    required=True,
    metavar="ID",
    help="The integration (its folder is created if needed).",
)


@new_group.command("sync", short_help="A sync and its test, ready to fill in.")
@click.argument("name")
@_integration_option
@click.pass_context
def new_sync(ctx: click.Context, name: str, integration: str) -> None:
    """Add the sync NAME to integration ID: <ID>/syncs/NAME.py and its test."""
    _create(ctx, "sync", name, integration)


@new_group.command("action", short_help="An action and its test, ready to fill in.")
@click.argument("name")
@_integration_option
@click.pass_context
def new_action(ctx: click.Context, name: str, integration: str) -> None:
    """Add the action NAME to integration ID: <ID>/actions/NAME.py and its test."""
    _create(ctx, "action", name, integration)


def _create(ctx: click.Context, kind: str, name: str, integration: str) -> None:
    from nango_scripts.scaffold import script_files, write_files

    _check_name(name)
    if not _INTEGRATION_ID.match(integration):
        raise click.BadParameter(
            f"{integration!r} is not an integration id: use letters, digits, '-' and '_' "
            "(it is also a folder name).",
            param_hint="--integration",
        )
    root = Path(project_folder(ctx))
    files = script_files("sync" if kind == "sync" else "action", name, integration)
    existing = [f.path.as_posix() for f in files if root.joinpath(*f.path.parts).exists()]
    if existing:
        raise click.UsageError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing was written. Choose another name or remove the file."
        )
    _check_unused(root, name, integration)

    written = write_files(root, files)
    click.echo(f"Created the {kind} {name} of integration {integration}:")
    for path in written:
        click.echo(f"  {path.relative_to(root).as_posix()}")
    _warn_if_unconfigured(root / "nango.toml", integration)
    record = f"nango-scripts dryrun {name} <connection-id> --save-responses"
    if kind == "action":
        record += " --input '{...}'"
    click.echo("\nNext steps:")
    for step in (
        f"fill in the TODOs of {written[0].relative_to(root).as_posix()}",
        "nango-scripts compile",
        f"{record}   # records its cassette and snapshot",
        "nango-scripts test",
    ):
        click.echo(f"  {step}")


def _check_name(name: str) -> None:
    problem = None
    if keyword.iskeyword(name):
        problem = "is a Python keyword, which cannot name a function: choose another name"
    elif not name.isidentifier():
        problem = "is not a Python identifier (letters, digits and _, not starting with a digit)"
    elif name.startswith(("_", "test_")):
        problem = 'cannot start with "_" or "test_" (such files are not loaded as scripts)'
    elif name in _TAKEN_NAMES:
        problem = "would shadow a name the script imports"
    if problem:
        raise click.BadParameter(f"{name!r} {problem}.", param_hint="NAME")


def _check_unused(root: Path, name: str, integration: str) -> None:
    """Names are unique per integration, whatever file defines them."""
    if not (root / integration).is_dir():
        return
    from nango_scripts.dsl import load_project

    project = load_project(root, [integration])
    for spec in project.scripts:
        if spec.name == name and spec.integration == integration:
            where = spec.source_file.relative_to(root).as_posix() if spec.source_file else "?"
            raise click.UsageError(
                f'integration {integration} already has a script named "{name}" ({where}). '
                "Choose another name."
            )


def _warn_if_unconfigured(config: Path, integration: str) -> None:
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # compile reports a broken nango.toml; no guess here
    integrations = data.get("integrations")
    if isinstance(integrations, dict) and integration in integrations:
        return
    from nango_scripts.providers import load_catalogue

    if integration in load_catalogue():
        table = f'provider = "{integration}"'
    else:
        table = (
            'base_url = "https://api.example.com"   # the API\'s base URL\n'
            'auth = "api_key"                       # none | api_key | basic | oauth2 | oauth2_cc\n'
            '# or provider = "..." for a built-in provider'
        )
    click.echo(
        f'\nWarning: integration "{integration}" is not in nango.toml, so its scripts cannot '
        f"run yet. Add to {config}:\n\n[integrations.{integration}]\n{table}",
        err=True,
    )
