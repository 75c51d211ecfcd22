"""Where a script's cassette and snapshot live in a project (SPEC 2)."""

from __future__ import annotations

from pathlib import Path

from nango_scripts.dsl import ScriptSpec

__all__ = [
    "VARIANT_SEPARATOR",
    "cassette_path",
    "replay_cassette",
    "rerecord_hint",
    "snapshot_path",
    "split_stem",
]

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


def replay_cassette(
    project_dir: Path, spec: ScriptSpec, variant: str | None = None
) -> tuple[Path, bool]:
    """The cassette a replay of ``spec`` plays, and whether it exists: the project's own,
    else (for a template) the one its pack ships, else the project's path to record to."""
    assert spec.integration is not None
    own = cassette_path(project_dir, spec.integration, spec.name, variant)
    if own.is_file():
        return own, True
    if spec.template is not None:
        shipped = spec.template.folder / "tests" / "cassettes" / own.name
        if shipped.is_file():
            return shipped, True
    return own, False


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
