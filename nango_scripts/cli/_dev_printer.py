"""What ``nango-scripts dev`` shows: each event of the session as one JSON line
(``--json``), or as a few timestamped lines for humans (errors on stderr)."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nango_scripts._iso_time import iso_millis
from nango_scripts.cli._printing import plural, print_log
from nango_scripts.errors import NangoScriptsError

if TYPE_CHECKING:
    from nango_scripts.dsl import ScriptSpec
    from nango_scripts.engine import ReloadOutcome, RerunReport
    from nango_scripts.runtime import LogRecord

__all__ = ["DevPrinter"]

_SHOWN_IDS = 10
"""Record ids listed per run for humans; ``--json`` lists them all."""


class DevPrinter:
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
            f"reloaded {plural(len(outcome.scripts), 'script')} in "
            f"{plural(len(integrations), 'integration')}{what} ({duration_ms:.0f} ms)"
        )

    def error(self, stage: str, errors: list[BaseException], **fields: Any) -> None:
        if self.as_json:
            listed = [{"type": type(e).__name__, "message": str(e)} for e in errors]
            self._emit("error", stage=stage, errors=listed, **fields)
            return
        files = fields.get("files")
        where = f" after a change to {', '.join(files)}" if files else ""
        if stage == "reload":
            head = f"{plural(len(errors), 'problem')} found{where}; watching for the fix:"
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
        self, report: RerunReport, connection_id: str, mode: str, since_change_s: float | None
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
    return iso_millis(datetime.now(UTC))
