"""``nango-scripts connections create | list | delete``: connections in the local database.

Nothing here ever prints a credential: listings read the secret-free summaries, and
errors about credentials name fields, never values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from nango_scripts.cli._common import project_folder
from nango_scripts.cli._errors import fail
from nango_scripts.errors import NangoScriptsError
from nango_scripts.settings import Settings, load_settings
from nango_scripts.store import MAX_JSON_DEPTH, ConnectionStore, ConnectionSummary

__all__ = ["connections_group"]


def _json_object(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> dict[str, Any] | None:
    """A JSON object given inline, as ``@file``, or as ``@-`` (standard input).

    Error messages give the position, never the text: it may hold secrets.
    """
    if value is None:
        return None
    text, origin = value, "the value"
    if text.startswith("@"):
        source = text[1:]
        origin = "standard input" if source == "-" else f"file {source}"
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise click.BadParameter(f"cannot read {origin}: {reason}.", ctx, param) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise click.BadParameter(
            f"{origin} nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays.",
            ctx,
            param,
        ) from None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{origin} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            f" (character {exc.pos + 1}).",
            ctx,
            param,
        ) from None
    if not isinstance(data, dict):
        raise click.BadParameter(
            f"{origin} must be a JSON object ({{...}}), not {_kind(data)}.", ctx, param
        )
    return data


@click.group("connections")
def connections_group() -> None:
    """Create, list and delete connections in the local database."""


@connections_group.command("create")
@click.argument("integration")
@click.argument("connection_id")
@click.option(
    "--credentials",
    required=True,
    metavar="JSON|@file",
    callback=_json_object,
    help='Nango\'s import shape, e.g. \'{"type": "API_KEY", "apiKey": "..."}\'; '
    "@file or @- (stdin) keeps secrets out of the shell history.",
)
@click.option(
    "--metadata",
    metavar="JSON|@file",
    callback=_json_object,
    help="Connection metadata: a JSON object, @file or @-.",
)
@click.pass_context
def create_cmd(
    ctx: click.Context,
    integration: str,
    connection_id: str,
    credentials: dict[str, Any],
    metadata: dict[str, Any] | None,
) -> None:
    """Store a connection; its credentials are encrypted at rest."""
    with _store(ctx) as store:
        connection = store.create(integration, connection_id, credentials, metadata)
    _record_change(ctx, integration, connection_id, "created", connection.auth_type)
    click.echo(
        f"Created connection '{connection.connection_id}' of integration"
        f" '{connection.integration_id}' ({connection.auth_type})."
    )


@connections_group.command("list")
@click.option("--integration", "integration", metavar="ID", help="Only this integration's.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (still without secrets).")
@click.pass_context
def list_cmd(ctx: click.Context, integration: str | None, as_json: bool) -> None:
    """List connections (auth type, never a secret)."""
    with _store(ctx) as store:
        summaries = store.summaries(integration)
    if as_json:
        payload = {"connections": [_as_json(summary) for summary in summaries]}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not summaries:
        where = f" for integration '{integration}'" if integration else ""
        click.echo(f"No connections{where}.")
        return
    _print_table(summaries)


@connections_group.command("delete")
@click.argument("integration")
@click.argument("connection_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete_cmd(ctx: click.Context, integration: str, connection_id: str, yes: bool) -> None:
    """Delete a connection and its credentials."""
    with _store(ctx) as store:
        store.get_summary(integration, connection_id)  # not found: say so before asking
        if not yes:
            if not _interactive():
                raise click.UsageError(
                    "Refusing to delete without confirmation: pass --yes.", ctx=ctx
                )
            click.confirm(
                f"Delete connection '{connection_id}' of integration '{integration}'"
                " and its credentials?",
                abort=True,
            )
        store.delete(integration, connection_id)
    _record_change(ctx, integration, connection_id, "deleted")
    click.echo(f"Deleted connection '{connection_id}' of integration '{integration}'.")


def _record_change(
    ctx: click.Context,
    integration: str,
    connection_id: str,
    change: str,
    auth_type: str | None = None,
) -> None:
    """The Activity log's entry (what serve shows); a failure there is only logged."""
    from nango_scripts.engine import record_connection_change_now

    settings: Settings = ctx.meta["nango_scripts.settings"]
    record_connection_change_now(
        settings.database_url,
        environment=settings.environment,
        integration_id=integration,
        connection_id=connection_id,
        change=change,
        fields={"auth_type": auth_type} if auth_type else None,
    )


@contextmanager
def _store(ctx: click.Context) -> Iterator[ConnectionStore]:
    """The project's connection store; NangoScriptsError -> one paragraph and its exit code."""
    options = ctx.find_root().obj or {}
    store: ConnectionStore | None = None
    try:
        settings = load_settings(project_folder(ctx))
        ctx.meta["nango_scripts.settings"] = settings  # read again by _record_change
        store = ConnectionStore.open(settings)
        yield store
    except NangoScriptsError as exc:
        _warn(store)
        if store is not None:
            store.close()
            store = None
        fail(exc, debug=bool(options.get("debug")))
    finally:
        if store is not None:
            _warn(store)
            store.close()


def _warn(store: ConnectionStore | None) -> None:
    if store is not None and store.key_warning:
        click.echo(f"Warning: {store.key_warning}", err=True)
        store.key_warning = None


def _interactive() -> bool:
    return sys.stdin.isatty()


def _as_json(summary: ConnectionSummary) -> dict[str, Any]:
    item: dict[str, Any] = {
        "integration_id": summary.integration_id,
        "connection_id": summary.connection_id,
        "environment": summary.environment,
        "auth_type": summary.auth_type,
    }
    if summary.auth_type == "OAUTH2":
        item["expires_at"] = summary.expires_at
    item |= {
        "metadata": dict(summary.metadata),
        "created_at": summary.created_at.isoformat(),
        "updated_at": summary.updated_at.isoformat(),
    }
    return item


def _print_table(summaries: list[ConnectionSummary]) -> None:
    header = ("INTEGRATION", "CONNECTION ID", "AUTH", "CREATED", "METADATA KEYS")
    rows = [
        (
            s.integration_id,
            s.connection_id,
            s.auth_type,
            s.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            ", ".join(s.metadata) or "-",
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
