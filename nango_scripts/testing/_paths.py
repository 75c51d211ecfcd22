"""Where a script's cassette and snapshot live in a project (SPEC 2)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["VARIANT_SEPARATOR", "cassette_path", "rerecord_hint", "snapshot_path", "split_stem"]

VARIANT_SEPARATOR = "@"
"""``issues@later.yaml``: a second recording of script ``issues`` (a later run, an error)."""


def _stem(script: str, variant: str | None) -> str:
    return f"{script}{VARIANT_SEPARATOR}{variant}" if variant else script


def cassette_path(
    project_dir: Path, integration: str, script: str, variant: str | None = None
) -> Path:
    """``<project>/<integration>/tests/cassettes/<script>[@<variant>].yaml``: the recorded
    HTTP exchanges."""
    return (
        Path(project_dir) / integration / "tests" / "cassettes" / f"{_stem(script, variant)}.yaml"
    )


def snapshot_path(
    project_dir: Path, integration: str, script: str, variant: str | None = None
) -> Path:
    """``<project>/<integration>/tests/snapshots/<script>[@<variant>].json``: the outputs
    recorded with it."""
    return (
        Path(project_dir) / integration / "tests" / "snapshots" / f"{_stem(script, variant)}.json"
    )


def split_stem(stem: str) -> tuple[str, str | None]:
    """``issues@later`` -> (``issues``, ``later``); ``issues`` -> (``issues``, None)."""
    script, sep, variant = stem.partition(VARIANT_SEPARATOR)
    return script, (variant if sep else None)


def rerecord_hint(script: str, connection_id: str | None = None) -> str:
    """The sentence that tells how to record a script's cassette and snapshot again."""
    hint = f"Re-record with `nango-scripts dryrun {script} CONNECTION_ID --save-responses`"
    if connection_id:
        hint += f" (it was recorded with connection {connection_id!r})"
    return hint + "."
