"""Turning exceptions into one clear paragraph and the exit codes of SPEC 5."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, NoReturn

import click

from nango_scripts.errors import NangoScriptsError


def fail(error: NangoScriptsError, *, debug: bool = False) -> NoReturn:
    """Print ``error`` as ``Error: ...`` on stderr and exit with its code."""
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    click.echo(f"Error: {error}", err=True)
    sys.exit(error.exit_code)


def debug_wanted(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("NANGO_SCRIPTS_DEBUG", "").lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def run_cli(group: click.Group, argv: list[str]) -> Any:
    debug = debug_wanted(argv)
    if "--debug" in argv:
        # `nango-scripts dryrun x c --debug` means the group's --debug too
        argv = ["--debug", *(arg for arg in argv if arg != "--debug")]
    try:
        return group.main(args=argv, prog_name="nango-scripts", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except NangoScriptsError as exc:
        fail(exc, debug=debug)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug of ours or of a script: still one paragraph
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {exc}\n"
                "Run again with --debug to see the traceback.",
                err=True,
            )
        sys.exit(1)
