from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

LogLevel = Literal["debug", "info", "warning", "error"]


@dataclass(frozen=True)
class LogRecord:
    """One line of a run's log (the Activity log later shows these)."""

    at: datetime
    level: LogLevel
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InvalidRecord:
    """A record that failed its model: never dropped silently."""

    model: str
    record_id: str | None
    field: str
    reason: str


@dataclass
class ModelCounts:
    saved: int = 0
    updated: int = 0
    deleted: int = 0
    invalid: int = 0
    added: int = 0
    unchanged: int = 0
    """``added``/``unchanged`` are filled by stores that detect changes."""

    def as_dict(self) -> dict[str, int]:
        return {
            "saved": self.saved,
            "updated": self.updated,
            "deleted": self.deleted,
            "invalid": self.invalid,
            "added": self.added,
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class RunError:
    type: str
    """``script_error``, ``http_error``, ``validation_error``, ``action_error``, ..."""
    message: str
    payload: Any = None
    """For an ``ActionError``: what the action raised it with."""
    traceback: str | None = None
    """For a crash: the formatted traceback (shown with ``--debug``)."""


@dataclass
class RunResult:
    """What one run of one script for one connection did."""

    script: str
    integration_id: str
    connection_id: str
    kind: Literal["sync", "action"]
    success: bool
    started_at: datetime
    duration_s: float
    models: dict[str, ModelCounts] = field(default_factory=dict)
    invalid_records: list[InvalidRecord] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    output: Any = None
    """An action's output, dumped to JSON-ready data."""
    error: RunError | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """Where a sync run's time went: ``writer_busy_s`` (the writer thread writing and
    committing), ``commits``, ``script_waited_s`` (the script waiting for a full queue)."""

    def model_counts(self, model: str) -> ModelCounts:
        return self.models.setdefault(model, ModelCounts())
