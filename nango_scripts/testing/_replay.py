"""Running a script from its cassette: no network, no credentials, no stored connection."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nango_scripts.dsl import ScriptSpec
from nango_scripts.engine import DryRun, FoundScript, find_project_script
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import LogRecord, RunResult
from nango_scripts.store import Connection
from nango_scripts.testing._errors import CassetteError
from nango_scripts.testing._paths import replay_cassette
from nango_scripts.testing._scrub import Scrubber, default_placeholder_credentials
from nango_scripts.testing._snapshot import snapshot_document
from nango_scripts.testing._transports import ReplayTransport
from nango_scripts.testing._vcr import open_cassette

__all__ = ["RecordedRun", "Replay", "ScriptRun", "run_script_from_cassette"]


@dataclass
class ScriptRun:
    """What one in-process run produced."""

    result: RunResult
    outputs: dict[str, Any]
    """The snapshot document: ``{"script", "models": {Model: {"saved", "updated",
    "deleted"}}, "output"}``, exactly ``dryrun --json``'s shape without ``error``."""


@dataclass(frozen=True)
class RecordedRun:
    """How a cassette was recorded; kept in the cassette (vcrpy metadata), secrets scrubbed.

    A replay reuses it so that it sends the very requests the recording sent.
    """

    connection_id: str = "cassette"
    credentials: dict[str, Any] = field(default_factory=dict)
    """The stand-in credentials: the recorded connection's fields, secrets as placeholders."""
    input: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    last_sync_date: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "credentials": self.credentials,
            "input": self.input,
            "metadata": self.metadata,
            "last_sync_date": self.last_sync_date.isoformat() if self.last_sync_date else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, provider: ProviderConfig) -> RecordedRun:
        """Read back :meth:`to_json`; what is missing gets a default for ``provider``."""
        data = data or {}
        since = data.get("last_sync_date")
        credentials = data.get("credentials")
        metadata = data.get("metadata")
        return cls(
            connection_id=str(data.get("connection_id") or "cassette"),
            credentials=dict(credentials)
            if isinstance(credentials, Mapping)
            else default_placeholder_credentials(provider.auth),
            input=data.get("input"),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            last_sync_date=datetime.fromisoformat(since) if isinstance(since, str) else None,
        )


class Replay:
    """One script, ready to run from its cassette as often as wanted."""

    def __init__(
        self,
        found: FoundScript,
        *,
        connection_id: str | None = None,
        variant: str | None = None,
    ) -> None:
        spec = found.spec
        assert spec.integration is not None
        self.found = found
        self.connection_id = connection_id
        self.variant = variant
        self.path, exists = replay_cassette(found.settings.project_dir, spec, variant)
        if not exists:
            flag = f" --variant {variant}" if variant else ""
            raise CassetteError(
                f'script "{spec.name}" of integration "{spec.integration}" has no cassette: '
                f"{self.path} does not exist.",
                hint=f"Record it with `nango-scripts dryrun {spec.name} CONNECTION_ID "
                f"--save-responses{flag}`.",
            )

    @property
    def spec(self) -> ScriptSpec:
        return self.found.spec

    async def run(
        self,
        *,
        input: Any = None,
        metadata: Mapping[str, Any] | None = None,
        last_sync_date: datetime | None = None,
        strict_validation: bool = False,
        on_log: Callable[[LogRecord], None] | None = None,
    ) -> ScriptRun:
        """Run the script with the network closed; arguments left as None are the recording's.

        Raises :class:`CassetteError` if the script made a request the cassette lacks,
        even if the script caught the error itself.
        """
        found = self.found
        provider = found.provider
        with open_cassette(self.path, record=False, scrubber=Scrubber(provider, {})) as cassette:
            recorded = RecordedRun.from_json(cassette.recorded_run(), provider)
            connection_id = self.connection_id or recorded.connection_id
            transport = ReplayTransport(cassette, found.spec.name, recorded.connection_id)
            runner = DryRun(
                found.settings,
                found.spec,
                provider,
                _stand_in(found, connection_id, recorded),
                list(found.other_errors),
                persist_credentials=False,
            )
            result = await runner.run(
                input=input if input is not None else recorded.input,
                metadata=metadata if metadata is not None else recorded.metadata,
                last_sync_date=last_sync_date
                if last_sync_date is not None
                else recorded.last_sync_date,
                strict_validation=strict_validation,
                on_log=on_log,
                transport=transport,
            )
        if transport.misses:
            raise transport.misses[0]
        return ScriptRun(result, snapshot_document(result, runner.records(), with_error=True))


def _stand_in(found: FoundScript, connection_id: str, recorded: RecordedRun) -> Connection:
    """A connection that exists only for this replay: placeholder credentials, recorded metadata."""
    assert found.spec.integration is not None
    now = datetime.now(UTC)
    return Connection(
        integration_id=found.spec.integration,
        connection_id=connection_id,
        credentials=recorded.credentials,
        metadata=recorded.metadata,
        environment=found.settings.environment,
        created_at=now,
        updated_at=now,
    )


async def run_script_from_cassette(
    project: str | Path | None,
    name: str,
    *,
    integration: str | None = None,
    input: Any = None,
    metadata: Mapping[str, Any] | None = None,
    last_sync_date: datetime | None = None,
    on_log: Callable[[LogRecord], None] | None = None,
    variant: str | None = None,
) -> ScriptRun:
    """Load the project afresh and run script ``name`` from its cassette, network closed.

    No stored connection and no credentials are needed or read: the script runs with a
    stand-in connection whose credentials are the placeholders the recording wrote, and
    with the recording's input, metadata and last sync date unless given here. Raises
    :class:`CassetteError` for a missing cassette or a request the cassette lacks;
    whatever else goes wrong in the script is in ``result.error``.
    """
    found = find_project_script(project, name, integration=integration)
    return await Replay(found, variant=variant).run(
        input=input, metadata=metadata, last_sync_date=last_sync_date, on_log=on_log
    )
