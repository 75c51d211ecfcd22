"""``nango-scripts dev``: watch the project, reload scripts on save, re-run one of them,
and serve the local service (API, scheduler, webhooks) with the reloaded scripts.

Every option can also be set by an environment variable (``NANGO_SCRIPTS_DEV_<OPTION>``,
as watchfiles does): ``NANGO_SCRIPTS_DEV_RUN="issues demo"``, ``NANGO_SCRIPTS_DEV_REPLAY=1``,
``NANGO_SCRIPTS_DEV_JSON=1``, ``NANGO_SCRIPTS_DEV_DEBOUNCE=50``...

With ``--json`` stdout carries one JSON object per line and nothing else (what scripts
print and log goes to stderr)::

    {"event": "reloaded", "ts", "scripts", "integrations", "files", "duration_ms"}
    {"event": "error", "ts", "stage": "reload" | "run", "errors": [{"type", "message"}], ...}
    {"event": "run", "ts", "script", "integration", "connection_id", "mode", "success",
     "error", "counts", "changes", "duration_ms", "since_change_ms"}
    {"event": "serving", "ts", "url"}           # once, when the API answers (not --no-serve)
    {"event": "watching", "ts", "project"}      # once, when saves start being seen

While serving, a reload ``error`` event also lists ``last_good``: the scripts the service
keeps serving in their last good version until their file is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from nango_scripts.cli._common import parse_date_option, parse_json_option, project_option
from nango_scripts.errors import NangoScriptsError

if TYPE_CHECKING:
    from nango_scripts.cli._serving import ServiceThread
    from nango_scripts.dsl import ScriptSpec
    from nango_scripts.engine import DevSession, ReloadOutcome, Runner, RunReport
    from nango_scripts.runtime import LogRecord
    from nango_scripts.settings import Settings

__all__ = ["dev_cmd"]

_ENV = "NANGO_SCRIPTS_DEV_"
FC = TypeVar("FC", bound=Callable[..., Any])


def _option(*decls: str, env: str, **kwargs: Any) -> Callable[[FC], FC]:
    """A click option also read from ``NANGO_SCRIPTS_DEV_<env>`` (shown in --help)."""
    return click.option(*decls, envvar=_ENV + env, show_envvar=True, **kwargs)


_SHOWN_IDS = 10
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3003
"""serve's default port too: a backend pointed at the local service works with either."""


@click.command("dev")
@_option(
    "--run",
    "run",
    nargs=2,
    metavar="NAME CONNECTION_ID",
    env="RUN",
    help="Also re-run this script after every reload and show what changed.",
)
@_option(
    "--integration",
    metavar="ID",
    env="INTEGRATION",
    help="The integration of the --run script, if its name is ambiguous.",
)
@_option(
    "--replay",
    is_flag=True,
    env="REPLAY",
    help="Run from the script's recorded cassette (offline) instead of the live API.",
)
@_option(
    "--input",
    "input_",
    metavar="JSON|@file",
    env="INPUT",
    help="An action's input.",
)
@_option(
    "--metadata",
    metavar="JSON|@file",
    env="METADATA",
    help="Connection metadata for the runs.",
)
@_option(
    "--last-sync-date",
    metavar="ISO",
    env="LAST_SYNC_DATE",
    help="Pretend the last successful run started then.",
)
@_option(
    "--json",
    "as_json",
    is_flag=True,
    env="JSON",
    help="One JSON line per event on stdout.",
)
@_option(
    "--debounce",
    type=click.IntRange(1, 60_000),
    default=50,
    show_default=True,
    metavar="MS",
    env="DEBOUNCE",
    help="Longest time to group a burst of saves into one reload.",
)
@_option(
    "--step",
    type=click.IntRange(1, 60_000),
    default=20,
    show_default=True,
    metavar="MS",
    env="STEP",
    help="Quiet time after a save before reloading.",
)
@_option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    env="SERVE",
    help="Also run the local service (the API, the scheduler, webhooks) with the reloaded scripts.",
)
@_option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    env="HOST",
    help="Interface the service listens on.",
)
@_option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    env="PORT",
    help="Port the service listens on (0: any free one, shown at start).",
)
@click.pass_context
def dev_cmd(
    ctx: click.Context,
    run: tuple[str, str] | None,
    integration: str | None,
    replay: bool,
    input_: str | None,
    metadata: str | None,
    last_sync_date: str | None,
    as_json: bool,
    debounce: int,
    step: int,
    serve: bool,
    host: str,
    port: int,
) -> None:
    """Watch the project: every save re-validates and reloads the scripts, and the local
    service (as nango-scripts serve, on --host/--port) serves them.

    A syntax or definition error is shown and watching goes on until the file is fixed;
    meanwhile the service keeps the last good version of the broken file's scripts.
    With --run NAME CONNECTION_ID the script also runs after every reload (from its
    cassette with --replay, else live, storing nothing) and the records added, removed
    and changed since the previous run are shown. Ctrl-C stops.
    """
    run = run or None  # click gives () when the option is absent
    if run is None:
        for given, flag in (
            (replay, "--replay"),
            (integration, "--integration"),
            (input_, "--input"),
            (metadata, "--metadata"),
            (last_sync_date, "--last-sync-date"),
        ):
            if given:
                raise click.UsageError(f"{flag} needs --run NAME CONNECTION_ID.")
    if not serve:
        for name in ("host", "port"):
            if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
                raise click.UsageError(
                    f"--{name} is where the service listens: not with --no-serve."
                )
    raw_input = parse_json_option(input_, "--input")
    raw_metadata = parse_json_option(metadata, "--metadata")
    if raw_metadata is not None and not isinstance(raw_metadata, dict):
        raise click.BadParameter("metadata must be a JSON object", param_hint="--metadata")
    since = parse_date_option(last_sync_date)

    from nango_scripts.engine import DevSession
    from nango_scripts.settings import load_settings

    settings = load_settings(project_option(ctx))
    root = settings.project_dir.resolve()
    show = _Printer(as_json, root)
    session = DevSession(root, script=run[0] if run else None, integration=integration)
    if run is not None:
        session.runner = _runner(
            root, run[0], run[1], integration, replay, raw_input, raw_metadata, since, show
        )

    listen = (settings, host, port) if serve else None
    with _stop_on_sigterm(), contextlib.suppress(KeyboardInterrupt):
        _loop(session, show, run, replay, debounce, step, listen)
    show.stopped()


def _loop(
    session: DevSession,
    show: _Printer,
    run: tuple[str, str] | None,
    replay: bool,
    debounce: int,
    step: int,
    listen: tuple[Settings, str, int] | None,
) -> None:
    reloaded = session.reload()
    show.reloaded(reloaded, [], None)
    if run is not None:
        _check_target(session, reloaded, replay)
        _run(session, show, run, replay, None)
    # After the checks and the first run: what exits 2 at start has started nothing.
    served = _serve(reloaded, show, *listen) if listen is not None else None
    try:
        _watch(session, show, run, replay, debounce, step, served)
    finally:
        if served is not None:
            served.stop()


def _watch(
    session: DevSession,
    show: _Printer,
    run: tuple[str, str] | None,
    replay: bool,
    debounce: int,
    step: int,
    served: ServiceThread | None,
) -> None:
    from nango_scripts.engine import watch_project

    for changed in watch_project(
        session.project_dir,
        debounce_ms=debounce,
        step_ms=step,
        on_ready=show.watching,
    ):
        detected = time.perf_counter()
        reloaded = session.reload()
        # The service first: when the event shows, the API already serves the new code.
        kept = _reload_service(served, reloaded, show)
        show.reloaded(reloaded, sorted(changed), kept)
        if run is None:
            continue
        if session.target() is not None:
            _run(session, show, run, replay, detected)
        elif reloaded.project is not None and not reloaded.errors:
            # Renamed or deleted (a broken file was already shown): say why nothing runs.
            try:
                reloaded.project.find(run[0], session.integration)
            except NangoScriptsError as exc:
                show.error("run", [exc], script=run[0])


def _serve(
    reloaded: ReloadOutcome, show: _Printer, settings: Settings, host: str, port: int
) -> ServiceThread:
    """The service of ``serve``, on the scripts just loaded, in a thread; ready when this
    returns."""
    from nango_scripts.cli._serving import ServiceThread, announce_secret_key
    from nango_scripts.engine import Service

    service = Service.open(settings)
    if reloaded.project is not None:
        service.use(reloaded.project)
    served = ServiceThread(service, host, port)
    try:
        announce_secret_key(service)
        served.start()
    except BaseException:
        served.stop()
        raise
    show.serving(served.url)
    return served


def _reload_service(
    served: ServiceThread | None, reloaded: ReloadOutcome, show: _Printer
) -> tuple[ScriptSpec, ...] | None:
    """Hand the new load to the service; the scripts it keeps in their last good version
    (None when not serving, or when the service could not take it: an error shows why)."""
    if served is None or reloaded.project is None:
        return None
    try:
        served.reload(reloaded.project, reloaded.settings)
    except Exception as exc:  # the loop goes on: the service keeps what it had
        show.error("serve", [exc])
        return None
    return served.service.kept_scripts


def _check_target(session: DevSession, reloaded: ReloadOutcome, replay: bool) -> None:
    """At start, a script that cannot be run is bad usage (exit 2), unless a broken file
    may be hiding it: then watching starts and the error shows until the fix."""
    assert session.script is not None
    if reloaded.project is None:
        return
    spec = session.target()
    if spec is None and not reloaded.project.errors:
        reloaded.project.find(session.script, session.integration)  # raises with a hint
    if spec is not None and replay:
        from nango_scripts.testing import replay_cassette

        cassette, exists = replay_cassette(session.project_dir, spec)
        if not exists:
            shown = cassette.relative_to(session.project_dir).as_posix()
            raise click.UsageError(
                f"--replay: {spec.name} has no cassette ({shown}). Record one with: "
                f"nango-scripts dryrun {spec.name} CONNECTION_ID --save-responses"
            )


def _run(
    session: DevSession,
    show: _Printer,
    run: tuple[str, str],
    replay: bool,
    detected: float | None,
) -> None:
    try:
        with show.script_output():
            report = asyncio.run(session.run())
    except NangoScriptsError as exc:
        if detected is None and exc.exit_code == 2:
            raise  # at start, an unknown connection or script is bad usage
        show.error("run", [exc], script=run[0])
        return
    except Exception as exc:  # a bug must not end the session: show it, keep watching
        show.error("run", [exc], script=run[0])
        return
    since_change = time.perf_counter() - detected if detected is not None else None
    show.ran(report, run[1], "replay" if replay else "live", since_change)


def _runner(
    root: Path,
    name: str,
    connection_id: str,
    integration: str | None,
    replay: bool,
    input: Any,
    metadata: dict[str, Any] | None,
    since: datetime | None,
    show: _Printer,
) -> Runner:
    from nango_scripts.engine import RunOutcome

    if replay:

        async def replayed() -> RunOutcome:
            from nango_scripts.testing import run_script_from_cassette

            ran = await run_script_from_cassette(
                root,
                name,
                integration=integration,
                input=input,
                metadata=metadata,
                last_sync_date=since,
                on_log=show.log,
            )
            return RunOutcome(ran.result, ran.outputs["models"])

        return replayed

    async def live() -> RunOutcome:
        from nango_scripts.engine import DryRun

        runner = DryRun.prepare(root, name, connection_id, integration=integration)
        result = await runner.run(
            input=input, metadata=metadata, last_sync_date=since, on_log=show.log
        )
        return RunOutcome(result, runner.records())

    return live


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM stops like Ctrl-C: a clean exit 0 (the watcher checks for signals)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. inside a test runner's thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- output


class _Printer:
    """Shows the session's events: one JSON line each, or a few lines for humans."""

    def __init__(self, as_json: bool, root: Path) -> None:
        self.as_json = as_json
        self.root = root

    def _emit(self, event: str, **fields: Any) -> None:
        document = {"event": event, "ts": _now(), **fields}
        click.echo(json.dumps(document, default=str))

    def _say(self, text: str, *, err: bool = False) -> None:
        click.echo(f"{datetime.now().strftime('%H:%M:%S')} {text}", err=err)

    def script_output(self) -> contextlib.AbstractContextManager[Any]:
        # With --json, stdout holds the events only: what scripts print goes to stderr.
        if self.as_json:
            return contextlib.redirect_stdout(sys.stderr)
        return contextlib.nullcontext()

    def log(self, record: LogRecord) -> None:
        from nango_scripts.cli.dryrun import print_log

        print_log(record)

    def serving(self, url: str) -> None:
        if self.as_json:
            self._emit("serving", url=url)
        else:
            self._say(
                f"serving the API on {url} (Authorization: Bearer <secret key>); the"
                " scheduler runs the syncs of existing connections"
            )

    def watching(self) -> None:
        if self.as_json:
            self._emit("watching", project=str(self.root))
        else:
            self._say(f"watching {self.root} for changes (Ctrl-C to stop)")

    def stopped(self) -> None:
        if not self.as_json:
            click.echo("Stopped.", err=True)

    def reloaded(
        self,
        outcome: ReloadOutcome,
        changed: list[Path],
        kept: tuple[ScriptSpec, ...] | None,
    ) -> None:
        """``kept``: scripts the service serves in their last good version (None: no
        service, or it did not take the reload)."""
        files = [self._relative(path) for path in changed]
        integrations = sorted({str(s.integration) for s in outcome.scripts})
        duration_ms = round(outcome.duration_s * 1000, 1)
        if outcome.errors:
            extra: dict[str, Any] = {}
            if kept is not None:
                extra["last_good"] = [f"{s.integration}/{s.name}" for s in kept]
            self.error(
                "reload",
                list(outcome.errors),
                files=files,
                scripts=len(outcome.scripts),
                duration_ms=duration_ms,
                **extra,
            )
            return
        if self.as_json:
            self._emit(
                "reloaded",
                scripts=len(outcome.scripts),
                integrations=integrations,
                files=files,
                duration_ms=duration_ms,
            )
            return
        what = f" after a change to {', '.join(files)}" if files else ""
        self._say(
            f"reloaded {_plural(len(outcome.scripts), 'script')} in "
            f"{_plural(len(integrations), 'integration')}{what} ({duration_ms:.0f} ms)"
        )

    def error(self, stage: str, errors: list[BaseException], **fields: Any) -> None:
        if self.as_json:
            listed = [{"type": type(e).__name__, "message": str(e)} for e in errors]
            self._emit("error", stage=stage, errors=listed, **fields)
            return
        files = fields.get("files")
        where = f" after a change to {', '.join(files)}" if files else ""
        if stage == "reload":
            head = f"{_plural(len(errors), 'problem')} found{where}; watching for the fix:"
        elif stage == "serve":
            head = "the service could not take the new scripts (it keeps the previous ones):"
        else:
            head = f"could not run {fields.get('script')}:"
        self._say(f"Error: {head}", err=True)
        for number, error in enumerate(errors, start=1):
            text = (
                str(error)
                if isinstance(error, NangoScriptsError)
                else f"{type(error).__name__}: {error}"
            )
            click.echo(f"  {number}. " + text.replace("\n", "\n     "), err=True)
        if fields.get("last_good"):
            click.echo(
                "  The service keeps serving the last good version of "
                + ", ".join(fields["last_good"])
                + ".",
                err=True,
            )

    def ran(
        self, report: RunReport, connection_id: str, mode: str, since_change_s: float | None
    ) -> None:
        result = report.outcome.result
        counts = {
            model: {
                k: v
                for k, v in c.as_dict().items()
                if k in ("saved", "updated", "deleted", "invalid")
            }
            for model, c in result.models.items()
        }
        error = (
            None
            if result.error is None
            else {"type": result.error.type, "message": result.error.message}
        )
        changes = (
            None if report.changes is None else {m: c.as_dict() for m, c in report.changes.items()}
        )
        duration_ms = round(report.duration_s * 1000, 1)
        since_ms = None if since_change_s is None else round(since_change_s * 1000, 1)
        if self.as_json:
            fields: dict[str, Any] = {
                "script": result.script,
                "integration": result.integration_id,
                "connection_id": connection_id,
                "mode": mode,
                "success": result.success,
                "error": error,
                "counts": counts,
                "changes": changes,
                "duration_ms": duration_ms,
                "since_change_ms": since_ms,
            }
            if result.kind == "action":
                fields["output"] = result.output
                fields["output_changes"] = report.output_changes
            self._emit("run", **fields)
            return
        state = "succeeded" if result.success else "failed"
        timing = f"{duration_ms:.0f} ms" + (
            f", {since_ms:.0f} ms after the change was seen" if since_ms is not None else ""
        )
        self._say(f"{mode} run of {result.script} {state} ({timing})", err=not result.success)
        if error is not None:
            click.echo(f"  Error: {error['message']}", err=True)
            return
        for model, count in counts.items():
            click.echo(f"  {model}: " + ", ".join(f"{v} {k}" for k, v in count.items()))
        if report.changes is None:
            return
        if not report.changes and not report.output_changes:
            click.echo("  no change since the previous run")
        for model, found in report.changes.items():
            click.echo(
                f"  {model} since the previous run: {len(found.added)} added, "
                f"{len(found.removed)} removed, {len(found.changed)} changed"
            )
            lines = [f"    + {rid}" for rid in found.added]
            lines += [f"    - {rid}" for rid in found.removed]
            lines += [
                f"    ~ {rid}: {', '.join(fields_)}" for rid, fields_ in found.changed.items()
            ]
            for line in lines[:_SHOWN_IDS]:
                click.echo(line)
            if len(lines) > _SHOWN_IDS:
                click.echo(f"    ... and {len(lines) - _SHOWN_IDS} more (use --json for all)")
        if report.output_changes:
            click.echo(f"  output changed: {', '.join(report.output_changes)}")

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
