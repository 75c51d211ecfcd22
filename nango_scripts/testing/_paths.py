"""Where a script's cassette and snapshot live in a project (SPEC 2)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["cassette_path", "rerecord_hint", "snapshot_path"]


def cassette_path(project_dir: Path, integration: str, script: str) -> Path:
    """``<project>/<integration>/tests/cassettes/<script>.yaml``: the recorded HTTP exchanges."""
    return Path(project_dir) / integration / "tests" / "cassettes" / f"{script}.yaml"


def snapshot_path(project_dir: Path, integration: str, script: str) -> Path:
    """``<project>/<integration>/tests/snapshots/<script>.json``: the outputs recorded with it."""
    return Path(project_dir) / integration / "tests" / "snapshots" / f"{script}.json"


def rerecord_hint(script: str, connection_id: str | None = None) -> str:
    """The sentence that tells how to record a script's cassette and snapshot again."""
    hint = f"Re-record with `nango-scripts dryrun {script} CONNECTION_ID --save-responses`"
    if connection_id:
        hint += f" (it was recorded with connection {connection_id!r})"
    return hint + "."
