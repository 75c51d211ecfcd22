"""Snapshots: a run's outputs as one JSON document, written, read and compared.

The document is exactly ``dryrun --json``'s shape without ``error``:
``{"script", "models": {Model: {"saved", "updated", "deleted"}}, "output"}``. A recording
of an expected failure (``dryrun --save-responses --expect-failure``) adds
``"error": {"type", "message"}``: the replay must fail the same way.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nango_scripts.runtime import RunResult
from nango_scripts.testing._errors import CassetteError

__all__ = [
    "dump_snapshot",
    "load_snapshot",
    "snapshot_diff",
    "snapshot_document",
    "write_snapshot",
]


def snapshot_document(
    result: RunResult, records: Mapping[str, Any], *, with_error: bool = False
) -> dict[str, Any]:
    """The outputs of a run as plain JSON data (dates and the like as strings); with
    ``with_error``, the run's error too (when it failed)."""
    document = {"script": result.script, "models": dict(records), "output": result.output}
    if with_error and result.error is not None:
        document["error"] = {"type": result.error.type, "message": result.error.message}
    loaded: dict[str, Any] = json.loads(json.dumps(document, default=str))
    return loaded


def dump_snapshot(document: Any) -> str:
    """Pretty JSON, keys sorted, one trailing newline: stable diffs in version control."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_snapshot(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(dump_snapshot(document), encoding="utf-8")
    os.replace(partial, path)


def load_snapshot(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CassetteError(
            f"no snapshot at {path}.",
            hint="Record one with `nango-scripts dryrun NAME CONNECTION_ID --save-responses`.",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CassetteError(f"cannot read the snapshot {path}: {exc}") from None


def snapshot_diff(
    expected: Any,
    actual: Any,
    *,
    expected_name: str = "snapshot",
    actual_name: str = "replay",
) -> str | None:
    """None when equal; otherwise a unified diff of the two pretty-printed documents."""
    if expected == actual:
        return None
    lines = difflib.unified_diff(
        dump_snapshot(expected).splitlines(),
        dump_snapshot(actual).splitlines(),
        fromfile=expected_name,
        tofile=actual_name,
        lineterm="",
    )
    return "\n".join(lines)
