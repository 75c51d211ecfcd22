"""One run of one script against the in-memory store: what ``dryrun`` does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from nango_scripts.dsl import ScriptSpec, SyncSpec
from nango_scripts.engine._project import open_project_script
from nango_scripts.engine._redact import SecretScrubber, masked_error, masked_log
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import LogRecord, RunResult, run_script
from nango_scripts.settings import Settings
from nango_scripts.store import Connection, ConnectionStore, MemoryRecordStore, blocking

__all__ = ["DryRun"]


@dataclass
class DryRun:
    settings: Settings
    spec: ScriptSpec
    provider: ProviderConfig
    connection: Connection
    other_errors: list[str] = field(default_factory=list)
    """Problems in other scripts of the project: worth a warning, not a stop."""
    store: MemoryRecordStore = field(default_factory=MemoryRecordStore)
    persist_credentials: bool = True
    """Save refreshed OAuth2 credentials to the connection store (False for stand-in connections)."""

    @classmethod
    def prepare(
        cls,
        project: str | Path | None,
        name: str,
        connection_id: str,
        *,
        integration: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> DryRun:
        """Load the project, find the script and its connection; raise a clear error if not."""
        found = open_project_script(project, name, connection_id, integration=integration, env=env)
        return cls(
            found.settings, found.spec, found.provider, found.connection, list(found.other_errors)
        )

    async def run(
        self,
        *,
        input: Any = None,
        metadata: Mapping[str, Any] | None = None,
        last_sync_date: datetime | None = None,
        strict_validation: bool = False,
        on_log: Callable[[LogRecord], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> RunResult:
        settings = self.settings
        connection = self.connection
        # The log and the error are printed (and may land in a CI log): they may quote an
        # upstream body that echoes the credentials.
        scrub = SecretScrubber(connection.credentials)

        def persist(credentials: dict[str, Any]) -> None:
            with ConnectionStore.open(settings) as connections:
                connections.update_credentials(
                    connection.integration_id, connection.connection_id, credentials
                )

        async def save_credentials(credentials: dict[str, Any]) -> None:
            scrub.add(credentials)
            # A refreshed token must not be lost even in a dry run: providers that
            # rotate refresh tokens would lock the connection out.
            await blocking(persist, credentials)

        result = await run_script(
            self.spec,
            connection=connection,
            provider=self.provider,
            store=self.store,
            last_sync_date=last_sync_date,
            input=input,
            metadata=metadata,
            save_credentials=save_credentials if self.persist_credentials else None,
            strict_validation=strict_validation,
            on_log=masked_log(on_log, scrub),
            transport=transport,
        )
        return masked_error(result, scrub)

    def records(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Per model, what the run saved, updated and deleted (in call order).

        Every model a sync declares is there, even if nothing valid reached it.
        """
        declared = [m.__name__ for m in self.spec.models] if isinstance(self.spec, SyncSpec) else []
        out: dict[str, dict[str, list[dict[str, Any]]]] = {
            name: {"saved": [], "updated": [], "deleted": []} for name in declared
        }
        for model, log in self.store.models.items():
            out[model] = {"saved": log.saved, "updated": log.updated, "deleted": log.deleted}
        return out
