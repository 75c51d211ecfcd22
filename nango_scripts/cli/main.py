"""The ``nango-scripts`` command group.

Subcommands live one per module and are imported only when invoked, so that
``nango-scripts --help`` stays fast (no pydantic, httpx or project import).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from nango_scripts import __version__
from nango_scripts.errors import NangoScriptsError

# command name -> "module:attribute"; the order is the order of --help
_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("nango_scripts.cli.init:init_cmd", "Create a new project with a working example."),
    "new": (
        "nango_scripts.cli.new:new_group",
        "Add a sync or an action (and its test) to an integration.",
    ),
    "compile": (
        "nango_scripts.cli.compile:compile_cmd",
        "Import and validate every script; print a table of them.",
    ),
    "dryrun": (
        "nango_scripts.cli.dryrun:dryrun_cmd",
        "Run one script once and print what it saved; store nothing.",
    ),
    "run": ("nango_scripts.cli.run:run_cmd", "One real run of a sync into the records store."),
    "dev": (
        "nango_scripts.cli.dev:dev_cmd",
        "Watch the project: reload scripts on save, re-run one.",
    ),
    "test": (
        "nango_scripts.cli.test:test_cmd",
        "Replay every script's cassette and compare with its snapshot.",
    ),
    "serve": (
        "nango_scripts.cli.serve:serve_cmd",
        "The service: API, scheduler, webhooks, activity page.",
    ),
    "templates": (
        "nango_scripts.cli.templates:templates_group",
        "The template library: list, show, enable, disable, clone, check, package.",
    ),
    "connections": (
        "nango_scripts.cli.connections:connections_group",
        "Create, list and delete connections in the local database.",
    ),
    "secret-key": (
        "nango_scripts.cli.secret_key:secret_key_group",
        "Show or rotate the API secret key (also the webhooks' signing key).",
    ),
}


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # Here rather than only in main(), so that CliRunner sees what users see.
        try:
            return super().invoke(ctx)
        except NangoScriptsError as exc:
            from nango_scripts.cli._errors import fail

            fail(exc, debug=bool((ctx.obj or {}).get("debug")))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the table above so --help imports no command module.
        rows = [(name, help_text) for name, (_, help_text) in _COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="NANGO_SCRIPTS_DEBUG", help="Show tracebacks.")
@click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False),
    envvar="NANGO_SCRIPTS_PROJECT",
    help="Project folder (default: the nearest folder with nango.toml, from here up).",
)
@click.version_option(__version__, package_name="nango-scripts")
@click.pass_context
def cli(ctx: click.Context, debug: bool, project: str | None) -> None:
    """Write, test and run Nango-style integration scripts in Python."""
    ctx.obj = {"debug": debug, "project": project}


def main(argv: list[str] | None = None) -> Any:
    from nango_scripts.cli._errors import run_cli

    return run_cli(cli, argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    main()
