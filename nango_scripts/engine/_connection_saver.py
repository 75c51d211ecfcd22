"""Saving what a run changes on its connection: refreshed credentials and metadata.

Sync runs and action runs save them alike: in a worker thread (the connection store
blocks), after telling the run's masking about new credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nango_scripts.store import Connection, ConnectionStore, blocking

__all__ = ["ConnectionSaver"]


@dataclass(frozen=True)
class ConnectionSaver:
    """The ``save_credentials`` / ``save_metadata`` a run of ``connection`` is given."""

    connections: ConnectionStore
    connection: Connection
    on_credentials: Callable[[dict[str, Any]], None] | None = None
    """Told of new credentials before they are saved (to mask them from then on)."""

    async def save_credentials(self, credentials: dict[str, Any]) -> None:
        if self.on_credentials is not None:
            self.on_credentials(credentials)
        c = self.connection
        await blocking(
            self.connections.update_credentials, c.integration_id, c.connection_id, credentials
        )

    async def save_metadata(self, metadata: dict[str, Any]) -> None:
        c = self.connection
        await blocking(self.connections.set_metadata, c.integration_id, c.connection_id, metadata)
