"""``nango-scripts init [DIR]``: a new project with a working example that runs offline.

Overwriting rules (so ``init`` never destroys work silently):

- a missing or empty DIR is filled;
- a non-empty DIR is filled if none of the example's files exist there yet;
- a DIR that already has ``nango.toml``, or any of the example's files, is refused
  (exit 2) unless ``--force``, which writes the example's files over the existing
  ones and leaves every other file alone.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from nango_scripts.cli._common import project_option

__all__ = ["init_cmd"]


@click.command("init")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]"
)
@click.option(
    "--force",
    is_flag=True,
    help="Write the example's files even over an existing project (other files are kept).",
)
@click.pass_context
def init_cmd(ctx: click.Context, directory: Path | None, force: bool) -> None:
    """Create a project in DIR (default: the current directory) with a working example.

    The example is a GitHub integration: a sync of issues paginated by the Link header,
    an action that creates an issue, their models, and a recorded cassette, snapshot
    and test, so that compile, test and dryrun --replay work at once, offline.
    """
    from nango_scripts.scaffold import PROJECT_INTEGRATION, PROJECT_SYNC, project_files, write_files

    target = Path(os.path.abspath(directory or project_option(ctx) or "."))
    if target.exists() and not target.is_dir():
        raise click.UsageError(f"{target} exists and is not a folder.")
    files = project_files(target.name or "project")
    existing = [f.path.as_posix() for f in files if target.joinpath(*f.path.parts).exists()]
    if not force:
        if (target / "nango.toml").exists():
            raise click.UsageError(
                f"{target} is already a nango-scripts project (it has nango.toml). "
                "Add scripts with nango-scripts new, or pass --force to write the "
                "example's files over the existing ones (other files are kept)."
            )
        if existing:
            raise click.UsageError(
                f"{target} already has files the example would overwrite: "
                f"{', '.join(existing)}. Pass --force to overwrite them."
            )
    written = write_files(target, files)

    shown = _shown(target)
    click.echo(f"Created a nango-scripts project in {shown}:")
    for path in written:
        note = " (overwritten)" if path.relative_to(target).as_posix() in existing else ""
        click.echo(f"  {path.relative_to(target).as_posix()}{note}")
    sync_name, integration = PROJECT_SYNC, PROJECT_INTEGRATION
    steps = [] if target == Path.cwd() else [f"cd {shlex.quote(shown)}"]
    steps += [
        "nango-scripts compile",
        "nango-scripts test",
        f"nango-scripts dryrun {sync_name} demo --replay",
        f"nango-scripts dev --run {sync_name} demo --replay",
    ]
    click.echo("\nNext steps (offline, from the recorded cassette):")
    for step in steps:
        click.echo(f"  {step}")
    click.echo(
        "\nThen against GitHub itself: add a connection with a token and run the sync live:\n"
        f"  nango-scripts connections create {integration} me --credentials "
        '\'{"type": "OAUTH2", "access_token": "<token>"}\'\n'
        f"  nango-scripts dryrun {sync_name} me"
    )


def _shown(target: Path) -> str:
    """The target as the user would type it: relative to the current folder if inside it."""
    try:
        relative = target.relative_to(Path.cwd())
    except ValueError:
        return str(target)
    return relative.as_posix() if relative.parts else "."
