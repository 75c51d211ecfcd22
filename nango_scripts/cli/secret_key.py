"""``nango-scripts secret-key show | rotate``: the project's API secret key.

The key is the API's bearer key and the webhooks' signing key: ``NANGO_SECRET_KEY``
when it is set, else the one kept in the project's database. Only the key goes to
stdout (``$(nango-scripts secret-key show)`` works); notes go to stderr.
"""

from __future__ import annotations

import sys

import click

from nango_scripts.cli._common import project_option
from nango_scripts.errors import ConfigError
from nango_scripts.settings import Settings

__all__ = ["secret_key_group"]

_ROTATED = (
    "Rotated the API secret key; the old one is gone from the database.\n"
    "A running serve or dev keeps accepting the old key and signing with it until it"
    " restarts: restart it now. Webhooks are signed when they are sent, so every delivery"
    " still pending (retries included) goes out signed with the new key; there is no"
    " window in which the old signature is still sent. Switch your backend's check to the"
    " new key (or accept both until the restart)."
)


@click.group("secret-key")
def secret_key_group() -> None:
    """See or replace the API secret key (also the webhooks' signing key)."""


@secret_key_group.command("show")
@click.pass_context
def show_cmd(ctx: click.Context) -> None:
    """Print the secret key serve uses (generated and stored now if there is none yet)."""
    from nango_scripts.engine import resolve_secret_key

    settings = _settings(ctx)
    key, created = resolve_secret_key(settings)
    click.echo(key)
    if settings.secret_key:
        click.echo("(from NANGO_SECRET_KEY)", err=True)
    elif created:
        click.echo("Created the API secret key; it is stored in the database.", err=True)


@secret_key_group.command("rotate")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def rotate_cmd(ctx: click.Context, yes: bool) -> None:
    """Replace the stored secret key with a new one and print it.

    Clients and webhook receivers must switch to the new key; a running serve or dev
    uses it once restarted.
    """
    from nango_scripts.engine import rotate_secret_key

    settings = _settings(ctx)
    if settings.secret_key:
        raise ConfigError(
            "the secret key in use comes from NANGO_SECRET_KEY, not from the database:"
            " there is nothing to rotate here.",
            hint="Set NANGO_SECRET_KEY to a new value (and restart serve), or unset it to"
            " use the key kept in the database.",
        )
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("Refusing to rotate without confirmation: pass --yes.", ctx=ctx)
        click.confirm(
            "Replace the API secret key? Clients and webhook receivers using the old one"
            " stop working.",
            abort=True,
        )
    click.echo(rotate_secret_key(settings))
    click.echo(_ROTATED, err=True)


def _settings(ctx: click.Context) -> Settings:
    """The project's settings; outside a project, a :class:`ConfigError` (exit 2) that
    says where it looked, before anything is created."""
    from nango_scripts.engine import find_project_dir
    from nango_scripts.settings import load_settings

    return load_settings(find_project_dir(project_option(ctx)))
