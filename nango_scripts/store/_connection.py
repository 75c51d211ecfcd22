from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Connection:
    """One account of one customer on one integration. Credentials are decrypted here."""

    integration_id: str
    connection_id: str
    credentials: Mapping[str, Any]
    """Nango's import shape: ``{"type": "API_KEY", "apiKey": ...}``, ``{"type": "OAUTH2", ...}``..."""
    metadata: Mapping[str, Any]
    environment: str
    created_at: datetime
    updated_at: datetime
