"""What several commands print the same way: a script's log lines, counted nouns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from nango_scripts.runtime import LogRecord

__all__ = ["plural", "print_log"]

_NOT_SHOWN = frozenset({"unknown_ids"})
"""Fields too long for a line (the message already counts them)."""


def print_log(record: LogRecord) -> None:
    """A script's log line on stderr: ``[level] message  (field=value ...)``."""
    fields = " ".join(f"{k}={v}" for k, v in record.fields.items() if k not in _NOT_SHOWN)
    click.echo(f"[{record.level}] {record.message}" + (f"  ({fields})" if fields else ""), err=True)


def plural(count: int, noun: str) -> str:
    """``1 script``, ``2 scripts``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
