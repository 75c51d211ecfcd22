"""Typed answers. Every model keeps the fields it does not declare (Nango adds fields
over time): read them as attributes, or with ``model_extra``. Attributes are snake_case;
``model_dump(by_alias=True)`` gives the wire names back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AsyncActionHandle",
    "Connection",
    "ConnectionDetails",
    "Integration",
    "ModelResult",
    "PruneResult",
    "RecordMetadata",
    "RecordsPage",
    "SyncStatus",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class RecordMetadata(_Model):
    """A record's ``_nango_metadata``."""

    first_seen_at: datetime
    last_modified_at: datetime
    last_action: str
    """``ADDED``, ``UPDATED`` or ``DELETED``."""
    deleted_at: datetime | None = None
    pruned_at: datetime | None = None
    cursor: str

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> RecordMetadata:
        """The metadata of a record as ``list_records`` returns it."""
        return cls.model_validate(record["_nango_metadata"])


class RecordsPage(_Model):
    """One page of ``list_records``: pass ``next_cursor`` as ``cursor`` for the next one."""

    records: list[dict[str, Any]]
    """The records as stored, each with its ``_nango_metadata``; oldest change first."""
    next_cursor: str | None = None
    """``None`` on the last page."""


class PruneResult(_Model):
    count: int
    has_more: bool


class ModelResult(_Model):
    added: int = 0
    updated: int = 0
    deleted: int = 0


class SyncStatus(_Model):
    """One (connection, sync) of ``sync_status``."""

    id: str
    connection_id: str | None = None
    name: str
    variant: str = "base"
    status: str
    """``RUNNING``, ``SUCCESS``, ``ERROR``, ``PAUSED`` or ``STOPPED``."""
    type: str | None = None
    """``INITIAL`` or ``INCREMENTAL`` (deprecated by Nango)."""
    finished_at: datetime | None = Field(default=None, alias="finishedAt")
    next_scheduled_sync_at: datetime | None = Field(default=None, alias="nextScheduledSyncAt")
    frequency: str | None = None
    latest_result: dict[str, ModelResult] = Field(default_factory=dict, alias="latestResult")
    latest_execution_status: str | None = Field(default=None, alias="latestExecutionStatus")
    record_count: dict[str, int] = Field(default_factory=dict, alias="recordCount")
    checkpoint: dict[str, Any] | None = None


class Connection(_Model):
    """An item of ``list_connections`` (no credentials)."""

    id: int | str
    connection_id: str
    provider_config_key: str
    provider: str
    created: datetime | None = None
    metadata: dict[str, Any] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    end_user: dict[str, Any] | None = None


class ConnectionDetails(_Model):
    """``get_connection`` and ``import_connection``: the connection with its credentials."""

    id: int | str
    connection_id: str
    provider_config_key: str
    provider: str
    metadata: dict[str, Any] | None = None
    connection_config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] = Field(default_factory=dict)
    """Nango's shape by ``type``: ``OAUTH2`` has ``access_token``, ``API_KEY`` has ``apiKey``..."""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_fetched_at: datetime | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    end_user: dict[str, Any] | None = None
    webhook_url_override: str | None = None


class Integration(_Model):
    unique_key: str
    provider: str
    display_name: str | None = None
    logo: str | None = None
    forward_webhooks: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AsyncActionHandle(_Model):
    """What ``trigger_action_async`` returns: pass it to ``get_async_action_result``."""

    id: str
    status_url: str = Field(alias="statusUrl")
    """Host-relative: ``/action/<id>``."""
