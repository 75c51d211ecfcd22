"""``dryrun --save-responses``: run against the real API, keep a scrubbed cassette and snapshot."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nango_scripts.engine import DryRun, FoundScript
from nango_scripts.runtime import LogRecord, RunResult
from nango_scripts.testing._errors import CassetteError
from nango_scripts.testing._paths import cassette_path, snapshot_path
from nango_scripts.testing._replay import RecordedRun, Replay
from nango_scripts.testing._scrub import Scrubber, placeholder_credentials
from nango_scripts.testing._snapshot import snapshot_diff, snapshot_document, write_snapshot
from nango_scripts.testing._transports import RecordingTransport
from nango_scripts.testing._vcr import open_cassette

__all__ = ["Recording", "record_dryrun"]


@dataclass
class Recording:
    """What ``record_dryrun`` did."""

    result: RunResult
    """The run itself (its records are in the ``DryRun`` that ran it, unscrubbed)."""
    requests: int
    """How many HTTP exchanges the run made."""
    cassette: Path | None
    """Where the cassette went; None when nothing was saved because the run failed."""
    snapshot: Path | None
    replay_problem: str | None = None
    """Set when replaying the new cassette does not give the snapshot back (the script
    depends on the clock or randomness, say): ``nango-scripts test`` would fail."""


async def record_dryrun(
    runner: DryRun,
    *,
    input: Any = None,
    metadata: Mapping[str, Any] | None = None,
    last_sync_date: datetime | None = None,
    strict_validation: bool = False,
    on_log: Callable[[LogRecord], None] | None = None,
    variant: str | None = None,
    expect_failure: bool = False,
) -> Recording:
    """Run ``runner`` once against the real API, recording every exchange.

    After a successful run the scrubbed cassette and snapshot replace the script's
    previous ones (a failed run leaves them alone), and the new cassette is replayed once
    to check that it gives the snapshot back. ``variant`` records a second cassette of the
    script (``<script>@<variant>.yaml``: a later run, an API error). With
    ``expect_failure`` it is the other way round: only a failed run is kept, and its
    snapshot holds the error the replay must give again.
    """
    spec, settings = runner.spec, runner.settings
    assert spec.integration is not None
    final = cassette_path(settings.project_dir, spec.integration, spec.name, variant)
    snapshot = snapshot_path(settings.project_dir, spec.integration, spec.name, variant)
    partial = final.with_name(f".{final.name}.partial")
    scrubber = Scrubber(runner.provider, runner.connection.credentials)
    partial.unlink(missing_ok=True)
    try:
        with open_cassette(partial, record=True, scrubber=scrubber) as cassette:
            result = await runner.run(
                input=input,
                metadata=metadata,
                last_sync_date=last_sync_date,
                strict_validation=strict_validation,
                on_log=on_log,
                transport=RecordingTransport(cassette),
            )
            requests = len(cassette)
            keep = result.success != expect_failure
            if keep:
                recorded = RecordedRun(
                    connection_id=runner.connection.connection_id,
                    credentials=placeholder_credentials(runner.connection.credentials),
                    input=input,
                    metadata=dict(metadata if metadata is not None else runner.connection.metadata),
                    last_sync_date=last_sync_date,
                )
                # Scrubbed last: by now every token the run was handed is known.
                cassette.store_recorded_run(scrubber.data(_plain(recorded.to_json())))
        if not keep:
            return Recording(result, requests, None, None)
        document = scrubber.data(
            snapshot_document(result, runner.records(), with_error=expect_failure)
        )
        partial.replace(final)
        write_snapshot(snapshot, document)
    finally:
        partial.unlink(missing_ok=True)
    found = FoundScript(settings, spec, runner.provider, tuple(runner.other_errors))
    problem = await _replay_problem(found, document, variant)
    return Recording(result, requests, final, snapshot, problem)


def _plain(value: Any) -> Any:
    """JSON data only: what a YAML cassette can hold and give back unchanged."""
    return json.loads(json.dumps(value, default=_jsonable))


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else str(value)


async def _replay_problem(found: FoundScript, document: Any, variant: str | None) -> str | None:
    """Why replaying the new cassette does not give ``document`` back, or None."""
    # The script runs a second time: what it prints is not news.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            replayed = await Replay(found, variant=variant).run()
        except CassetteError as exc:
            return exc.message
    if replayed.result.error is not None and "error" not in document:
        return f"the replay failed: {replayed.result.error.message}"
    diff = snapshot_diff(document, replayed.outputs)
    if diff is None:
        return None
    return "the replay gives other outputs than the recording:\n" + diff
