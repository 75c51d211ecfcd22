"""Background action runs keep whatever a script ended with: its output, or an
``ActionError`` payload that is any Python value, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nango_scripts.store import ActionRunStore

from .conftest import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
def runs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ActionRunStore]:
    with database_url(request.param, tmp_path) as url, ActionRunStore.open(url) as store:
        yield store


def _finished_with(runs: ActionRunStore, payload: Any) -> Any:
    runs.create("r1", environment="dev", integration_id="fake", connection_id="c1", action_name="a")
    runs.finish("r1", error={"type": "action_error", "message": "no", "payload": payload})
    run = runs.get("r1")
    assert run is not None and run.status == "failed", run
    assert run.error is not None
    return run.error["payload"]


def test_a_payload_with_half_a_surrogate_pair_is_kept(runs: ActionRunStore) -> None:
    """Not UTF-8, so no database takes it as text: it is kept escaped, and the run ends
    (it stayed 'running' for ever, its result lost)."""
    assert _finished_with(runs, {"message": "half \ud83d", "nul": "a\x00b"}) == {
        "message": "half \ud83d",
        "nul": "a\x00b",
    }


def test_a_payload_that_is_not_json_is_kept_as_a_note(runs: ActionRunStore) -> None:
    circular: list[Any] = []
    circular.append(circular)
    kept = _finished_with(runs, circular)
    assert isinstance(kept, str) and kept.startswith("(not kept: a list that is not JSON")
    itself: dict[str, Any] = {}
    itself["again"] = itself
    runs.create("r2", environment="dev", integration_id="fake", connection_id="c1", action_name="a")
    runs.finish("r2", output=itself)
    run = runs.get("r2")
    assert run is not None and run.output == {
        "again": "(not kept: a dict that is not JSON: Circular reference detected)"
    }
