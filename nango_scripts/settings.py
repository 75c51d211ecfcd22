"""``nango.toml`` plus ``NANGO_*`` environment variables -> one frozen :class:`Settings`.

Environment variables win over the file. See README "Configuration" for the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from nango_scripts.providers import ProviderConfig

__all__ = ["Settings", "WebhookSettings", "load_settings"]


@dataclass(frozen=True)
class WebhookSettings:
    url: str = ""
    secondary_url: str = ""
    on_sync_completion_always: bool = False
    on_sync_error: bool = True


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    database_url: str
    """``sqlite:///<abs path>`` (default ``<project>/.nango/nango.db``) or ``postgresql://...``."""
    integrations: Mapping[str, ProviderConfig] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Integration id -> resolved provider config (catalogue + nango.toml overrides)."""
    secret_key: str | None = None
    encryption_key: str | None = None
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    environment: str = "dev"

    @property
    def state_dir(self) -> Path:
        """``<project>/.nango``: local state (database, generated keys)."""
        return self.project_dir / ".nango"


def load_settings(
    project_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    raise NotImplementedError  # filled in by the settings work (issue 2, point 3)
