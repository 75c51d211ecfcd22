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
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from nango_scripts.cli._common import parse_date_option, parse_json_option, project_folder
from nango_scripts.cli._dev_printer import DevPrinter
from nango_scripts.errors import NangoScriptsError

if TYPE_CHECKING:
    from nango_scripts.cli._serving import ServiceThread
    from nango_scripts.dsl import ScriptSpec
    from nango_scripts.engine import DevSession, ReloadOutcome, Runner
    from nango_scripts.settings import Settings

__all__ = ["dev_cmd"]

_ENV = "NANGO_SCRIPTS_DEV_"
FC = TypeVar("FC", bound=Callable[..., Any])


def _option(*decls: str, env: str, **kwargs: Any) -> Callable[[FC], FC]:
    """A click option also read from ``NANGO_SCRIPTS_DEV_<env>`` (shown in --help)."""
    return click.option(*decls, envvar=_ENV + env, show_envvar=True, **kwargs)


@dataclass(frozen=True)
class DevLoop:
    """What the watch loop works with: the session, how it shows events, and the options
    that steer it."""

    session: DevSession
    show: DevPrinter
    run: tuple[str, str] | None
    """``--run NAME CONNECTION_ID``: the script re-run after every reload, if any."""
    replay: bool
    debounce_ms: int
    step_ms: int
    settings: Settings
    listen: tuple[str, int] | None
    """Where the service listens (host, port); None with ``--no-serve``."""


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
    default=None,
    env="HOST",
    help="Interface the service listens on (default: [server] host, 127.0.0.1).",
)
@_option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    env="PORT",
    help="Port the service listens on (default: [server] port, 3003; 0: any free one,"
    " shown at start).",
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
    host: str | None,
    port: int | None,
) -> None:
    """Watch the project: every save re-validates and reloads the scripts, and the local
    service (as nango-scripts serve, on --host/--port or nango.toml's [server]) serves them.

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

    settings = load_settings(project_folder(ctx))
    root = settings.project_dir.resolve()
    show = DevPrinter(as_json, root)
    session = DevSession(root, script=run[0] if run else None, integration=integration)
    if run is not None:
        session.runner = _runner(
            root, run[0], run[1], integration, replay, raw_input, raw_metadata, since, show
        )
    listen = None
    if serve:  # as serve: the options, else nango.toml's [server] (and its variables)
        listen = (
            host or settings.server_host,
            port if port is not None else settings.server_port,
        )
    loop = DevLoop(session, show, run, replay, debounce, step, settings, listen)
    with _stop_on_sigterm(), contextlib.suppress(KeyboardInterrupt):
        _loop(loop)
    show.stopped()


def _loop(loop: DevLoop) -> None:
    reloaded = loop.session.reload()
    loop.show.reloaded(reloaded, [], None)
    if loop.run is not None:
        _check_target(loop, reloaded)
        _run(loop, None)
    # After the checks and the first run: what exits 2 at start has started nothing.
    served = _serve(loop, reloaded) if loop.listen is not None else None
    try:
        _watch(loop, served)
    finally:
        if served is not None:
            served.stop()


def _watch(loop: DevLoop, served: ServiceThread | None) -> None:
    from nango_scripts.engine import watch_project

    session, show, run = loop.session, loop.show, loop.run
    for changed in watch_project(
        session.project_dir,
        debounce_ms=loop.debounce_ms,
        step_ms=loop.step_ms,
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
            _run(loop, detected)
        elif reloaded.project is not None and not reloaded.errors:
            # Renamed or deleted (a broken file was already shown): say why nothing runs.
            try:
                reloaded.project.find(run[0], session.integration)
            except NangoScriptsError as exc:
                show.error("run", [exc], script=run[0])


def _serve(loop: DevLoop, reloaded: ReloadOutcome) -> ServiceThread:
    """The service of ``serve``, on the scripts just loaded, in a thread; ready when this
    returns."""
    from nango_scripts.cli._serving import ServiceThread, announce_secret_key
    from nango_scripts.engine import Service

    assert loop.listen is not None
    service = Service.open(loop.settings)
    if reloaded.project is not None:
        service.use(reloaded.project)
    served = ServiceThread(service, *loop.listen)
    try:
        announce_secret_key(service)
        served.start()
    except BaseException:
        served.stop()
        raise
    loop.show.serving(served.url)
    return served


def _reload_service(
    served: ServiceThread | None, reloaded: ReloadOutcome, show: DevPrinter
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


def _check_target(loop: DevLoop, reloaded: ReloadOutcome) -> None:
    """At start, a script that cannot be run is bad usage (exit 2), unless a broken file
    may be hiding it: then watching starts and the error shows until the fix."""
    session = loop.session
    assert session.script is not None
    if reloaded.project is None:
        return
    spec = session.target()
    if spec is None and not reloaded.project.errors:
        reloaded.project.find(session.script, session.integration)  # raises with a hint
    if spec is not None and loop.replay:
        from nango_scripts.testing import replay_cassette

        cassette, exists = replay_cassette(session.project_dir, spec)
        if not exists:
            shown = cassette.relative_to(session.project_dir).as_posix()
            raise click.UsageError(
                f"--replay: {spec.name} has no cassette ({shown}). Record one with: "
                f"nango-scripts dryrun {spec.name} CONNECTION_ID --save-responses"
            )


def _run(loop: DevLoop, detected: float | None) -> None:
    """One run of the ``--run`` script, shown; ``detected``: when the save that caused it
    was seen (None for the first run, at start)."""
    assert loop.run is not None
    name, connection_id = loop.run
    show = loop.show
    try:
        with show.script_output():
            report = asyncio.run(loop.session.run())
    except NangoScriptsError as exc:
        if detected is None and exc.exit_code == 2:
            raise  # at start, an unknown connection or script is bad usage
        show.error("run", [exc], script=name)
        return
    except Exception as exc:  # a bug must not end the session: show it, keep watching
        show.error("run", [exc], script=name)
        return
    since_change = time.perf_counter() - detected if detected is not None else None
    show.ran(report, connection_id, "replay" if loop.replay else "live", since_change)


def _runner(
    root: Path,
    name: str,
    connection_id: str,
    integration: str | None,
    replay: bool,
    input: Any,
    metadata: dict[str, Any] | None,
    since: datetime | None,
    show: DevPrinter,
) -> Runner:
    from nango_scripts.engine import RunWithRecords

    if replay:

        async def replayed() -> RunWithRecords:
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
            return RunWithRecords(ran.result, ran.outputs["models"])

        return replayed

    async def live() -> RunWithRecords:
        from nango_scripts.engine import DryRun

        runner = DryRun.prepare(root, name, connection_id, integration=integration)
        result = await runner.run(
            input=input, metadata=metadata, last_sync_date=since, on_log=show.log
        )
        return RunWithRecords(result, runner.records())

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
