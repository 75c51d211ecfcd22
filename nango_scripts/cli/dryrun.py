"""``nango-scripts dryrun``: run one script once and show what it did; store nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from typing import TYPE_CHECKING, Any

import click

from nango_scripts.cli._common import parse_date_option, parse_json_option, project_folder
from nango_scripts.cli._printing import print_log
from nango_scripts.runtime import LogRecord, RunResult

if TYPE_CHECKING:
    from nango_scripts.engine import DryRun
    from nango_scripts.testing import Recording, Replay

_SHOWN_PER_LIST = 20
_VARIANT = re.compile(r"[A-Za-z0-9_-]+")


@click.command("dryrun")
@click.argument("name")
@click.argument("connection_id")
@click.option("--integration", "integration", help="The integration, if NAME is ambiguous.")
@click.option("--input", "input_", metavar="JSON|@file", help="An action's input.")
@click.option("--metadata", metavar="JSON|@file", help="Connection metadata for this run only.")
@click.option(
    "--last-sync-date", metavar="ISO", help="Pretend the last successful run started then."
)
@click.option(
    "--save-responses",
    is_flag=True,
    help="Record every HTTP exchange into <integration>/tests/cassettes/NAME.yaml (secrets "
    "scrubbed) and the outputs into <integration>/tests/snapshots/NAME.json.",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Run from the recorded cassette: no network, no credentials, no stored connection.",
)
@click.option(
    "--variant",
    metavar="NAME",
    help="With --save-responses or --replay: a second cassette of the script, "
    "NAME@VARIANT.yaml (a later run, an API error...).",
)
@click.option(
    "--expect-failure",
    is_flag=True,
    help="With --save-responses: keep the recording only if the run fails; its snapshot "
    "holds the error, which the replay must give again.",
)
@click.option("--validate", is_flag=True, help="Fail the run on the first invalid record.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.pass_context
def dryrun_cmd(
    ctx: click.Context,
    name: str,
    connection_id: str,
    integration: str | None,
    input_: str | None,
    metadata: str | None,
    last_sync_date: str | None,
    save_responses: bool,
    replay: bool,
    variant: str | None,
    expect_failure: bool,
    validate: bool,
    as_json: bool,
) -> None:
    """Run script NAME once for CONNECTION_ID and print what it saved, updated and deleted.

    Nothing is written to the records store. Logs go to stderr. With --replay, the input,
    metadata and last sync date are the recording's unless given.
    """
    if save_responses and replay:
        raise click.UsageError(
            "--save-responses and --replay cannot be used together: record with "
            "--save-responses, then replay with --replay."
        )
    if variant is not None and not (save_responses or replay):
        raise click.UsageError("--variant goes with --save-responses or --replay.")
    if variant is not None and not _VARIANT.fullmatch(variant):
        raise click.BadParameter(
            "letters, digits, '-' and '_' only (it becomes part of a file name)",
            param_hint="--variant",
        )
    if expect_failure and not save_responses:
        raise click.UsageError("--expect-failure goes with --save-responses.")
    raw_input = parse_json_option(input_, "--input")
    raw_metadata = parse_json_option(metadata, "--metadata")
    if raw_metadata is not None and not isinstance(raw_metadata, dict):
        raise click.BadParameter("metadata must be a JSON object", param_hint="--metadata")
    since = parse_date_option(last_sync_date)

    from nango_scripts.engine import DryRun, find_project_script

    runner: DryRun | None = None
    replayer: Replay | None = None
    if replay:
        from nango_scripts.testing import Replay

        found = find_project_script(project_folder(ctx), name, integration=integration)
        replayer = Replay(found, connection_id=connection_id, variant=variant)
        spec, other_errors = found.spec, list(found.other_errors)
    else:
        runner = DryRun.prepare(project_folder(ctx), name, connection_id, integration=integration)
        spec, other_errors = runner.spec, runner.other_errors
    if spec.kind == "action" and not spec.takes_input and raw_input is not None:
        raise click.BadParameter(f'action "{name}" takes no input', param_hint="--input")
    if spec.kind == "sync" and raw_input is not None:
        raise click.BadParameter(
            f'"{name}" is a sync; only actions take input', param_hint="--input"
        )
    if spec.kind == "action" and since is not None:
        raise click.BadParameter(
            f'"{name}" is an action; --last-sync-date is for syncs', param_hint="--last-sync-date"
        )
    for problem in other_errors:
        click.echo(f"Warning: {problem}", err=True)

    options: dict[str, Any] = {
        "input": raw_input,
        "metadata": raw_metadata,
        "last_sync_date": since,
        "strict_validation": validate,
        # Without --json, the closing "Error:" line says why the run failed: the run's own
        # record of it would say it a second time.
        "on_log": print_log if as_json else _print_log_but_the_failure,
    }
    recording: Recording | None = None
    # With --json, stdout holds the one JSON object: what the script prints goes to stderr.
    script_stdout = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with script_stdout:
        if replayer is not None:
            replayed = asyncio.run(replayer.run(**options))
            result, records = replayed.result, replayed.outputs["models"]
        else:
            assert runner is not None
            if save_responses:
                from nango_scripts.testing import record_dryrun

                recording = asyncio.run(
                    record_dryrun(runner, **options, variant=variant, expect_failure=expect_failure)
                )
                result = recording.result
            else:
                result = asyncio.run(runner.run(**options))
            records = runner.records()
    if as_json:
        document: dict[str, Any] = {
            "script": result.script,
            "models": records,
            "output": result.output,
        }
        if result.error is not None:
            document["error"] = {"type": result.error.type, "message": result.error.message}
            if result.error.payload is not None:
                document["error"]["payload"] = result.error.payload
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        _print_human(result, records)
    if recording is not None:
        _print_recording(recording, expect_failure)
        if expect_failure:
            sys.exit(0 if recording.cassette is not None else 1)
    if result.error is not None:
        if result.error.traceback and (ctx.find_root().obj or {}).get("debug"):
            click.echo(result.error.traceback.rstrip(), err=True)
        if not as_json:
            click.echo(f"Error: {result.script} failed: {result.error.message}", err=True)
        sys.exit(2 if result.error.type == "invalid_input" else 1)


def _print_recording(recording: Recording, expect_failure: bool) -> None:
    if recording.cassette is None or recording.snapshot is None:
        outcome = "succeeded, and a failure was expected" if expect_failure else "failed"
        click.echo(
            f"Responses not saved: the run {outcome} (the previous cassette and snapshot "
            "are kept).",
            err=True,
        )
        return
    click.echo(
        f"Saved {recording.requests} HTTP exchange(s) to {recording.cassette} "
        f"and the outputs to {recording.snapshot}.",
        err=True,
    )
    if recording.replay_problem:
        click.echo(
            "Warning: replaying the new cassette does not give the same outputs, so "
            f"`nango-scripts test` will fail for this script: {recording.replay_problem}",
            err=True,
        )


def _print_log_but_the_failure(record: LogRecord) -> None:
    if record.level == "error" and set(record.fields) == {"type"}:
        return
    print_log(record)


def _print_human(result: RunResult, records: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    state = "succeeded" if result.success else "failed"
    click.echo(
        f"{result.kind} {result.script} ({result.integration_id}/{result.connection_id}) {state} in {result.duration_s:.2f}s"
    )
    for model, counts in result.models.items():
        click.echo(
            f"  {model}: {counts.saved} saved, {counts.updated} updated, "
            f"{counts.deleted} deleted, {counts.invalid} invalid"
        )
        for what in ("saved", "updated", "deleted"):
            items = records.get(model, {}).get(what, [])
            for item in items[:_SHOWN_PER_LIST]:
                click.echo(f"    {what:<7} {json.dumps(item, default=str)}")
            if len(items) > _SHOWN_PER_LIST:
                click.echo(
                    f"    ... and {len(items) - _SHOWN_PER_LIST} more {what} (use --json for all)"
                )
    if result.kind == "action" and result.success:
        click.echo("Output:")
        click.echo(json.dumps(result.output, indent=2, default=str))
