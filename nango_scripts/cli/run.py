"""``nango-scripts run``: one real run of a sync into the records store."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import typing

import click

from nango_scripts.cli._common import project_folder
from nango_scripts.cli._printing import print_log

if typing.TYPE_CHECKING:
    from nango_scripts.engine import DeliveryReport


@click.command("run")
@click.argument("name")
@click.argument("connection_id")
@click.option("--integration", "integration", help="The integration, if NAME is ambiguous.")
@click.option("--full", is_flag=True, help="Ignore last_sync_date: fetch everything again.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.pass_context
def run_cmd(
    ctx: click.Context,
    name: str,
    connection_id: str,
    integration: str | None,
    full: bool,
    as_json: bool,
) -> None:
    """Run sync NAME once for CONNECTION_ID, as the scheduler would.

    Records go to the records store; on success last_sync_date advances to this run's
    start and track_deletes applies. Prints the run's counts per model; logs go to stderr.
    The run's webhooks are sent once before exiting; a failed one stays in the outbox
    and 'nango-scripts serve' retries it.
    """
    from nango_scripts.dsl import SyncSpec
    from nango_scripts.engine import (
        ActivityRecorder,
        SyncRunner,
        open_project_script,
        send_run_webhooks,
    )
    from nango_scripts.store import ActivityStore, ConnectionStore, SqlRecordStore

    found = open_project_script(project_folder(ctx), name, connection_id, integration=integration)
    if not isinstance(found.spec, SyncSpec):
        raise click.UsageError(
            f'"{name}" is an action: run is for syncs. Try: nango-scripts dryrun {name} {connection_id}'
        )
    for problem in found.other_errors:
        click.echo(f"Warning: {problem}", err=True)
    with (
        SqlRecordStore.open(found.settings.database_url) as records,
        ConnectionStore.open(found.settings) as connections,
        ActivityStore.open(found.settings.database_url) as activity,
    ):
        sync_run = SyncRunner(
            found.settings, found.spec, found.provider, found.connection, records, connections
        )
        # The run and its webhook deliveries show in serve's Activity log.
        sync_run.activity = ActivityRecorder(activity, masked=[found.settings.secret_key])
        # Everything loaded so far (modules, the project, pydantic's schemas) lives as long
        # as the process: out of the collector's sight, a long run's collections stay cheap.
        gc.collect()
        gc.freeze()
        started = time.perf_counter()
        result = asyncio.run(sync_run.run(full=full, on_log=print_log))
        run_s = time.perf_counter() - started
        if sync_run.last_run_id is not None:
            sent = asyncio.run(
                send_run_webhooks(found.settings, sync_run.last_run_id, activity=sync_run.activity)
            )
            if sent is not None:
                _report_webhooks(sent)
    counts = {
        model: {
            "added": c.added,
            "updated": c.updated,
            "deleted": c.deleted,
            "unchanged": c.unchanged,
            "invalid": c.invalid,
        }
        for model, c in result.models.items()
    }
    if as_json:
        document = {
            "script": result.script,
            "success": result.success,
            "duration_s": round(result.duration_s, 6),
            "models": counts,
            "timings": {"run_s": round(run_s, 6), **result.timings},
        }
        if result.error is not None:
            document["error"] = {"type": result.error.type, "message": result.error.message}
        click.echo(json.dumps(document, indent=2))
    else:
        state = "succeeded" if result.success else "failed"
        click.echo(
            f"sync {result.script} ({result.integration_id}/{result.connection_id}) {state}"
            f" in {result.duration_s:.2f}s"
        )
        for model, c in counts.items():
            click.echo(
                f"  {model}: {c['added']} added, {c['updated']} updated, {c['deleted']} deleted,"
                f" {c['unchanged']} unchanged, {c['invalid']} invalid"
            )
    if result.error is not None:
        if result.error.traceback and (ctx.find_root().obj or {}).get("debug"):
            click.echo(result.error.traceback.rstrip(), err=True)
        if not as_json:
            click.echo(f"Error: {result.script} failed: {result.error.message}", err=True)
        sys.exit(1)


def _report_webhooks(sent: DeliveryReport) -> None:
    if sent.key_created:
        click.echo(
            f"Created the secret key that signs webhooks: {sent.key_created}\n"
            "It is stored in the database: 'nango-scripts secret-key show' prints it again"
            " (set NANGO_SECRET_KEY to use your own).",
            err=True,
        )
    r = sent
    line = f"webhooks: {r.delivered} delivered"
    if r.retrying:
        line += (
            f", {r.retrying} not accepted yet (kept in the outbox: 'nango-scripts serve' retries)"
        )
    if r.failed:
        line += f", {r.failed} failed for good"
    click.echo(line, err=True)
