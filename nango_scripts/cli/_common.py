"""Small helpers shared by the commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click


def parse_json_option(value: str | None, option: str) -> Any:
    """``--option JSON`` or ``--option @file.json`` -> the parsed value (None if absent)."""
    if value is None:
        return None
    source = "the value"
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {path}: {exc.strerror}", param_hint=option
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            param_hint=option,
        ) from None


def project_option(ctx: click.Context) -> str | None:
    """The ``--project`` given to the group (or ``NANGO_SCRIPTS_PROJECT``)."""
    obj = ctx.find_root().obj or {}
    project = obj.get("project")
    return str(project) if project is not None else None


def project_folder(ctx: click.Context) -> str:
    """The project a command works in: ``--project`` (or ``NANGO_SCRIPTS_PROJECT``), else the
    nearest folder with nango.toml from here up; a clear error (exit 2) when there is none."""
    from nango_scripts.engine import find_project_dir

    return str(find_project_dir(project_option(ctx)))


def parse_date_option(value: str | None, option: str = "--last-sync-date") -> datetime | None:
    """An ISO-8601 option value (``Z`` or an offset; naive means UTC), or None if absent."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date such as 2024-05-01T12:00:00Z", param_hint=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
