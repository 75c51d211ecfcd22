"""Connections in the local database: credentials encrypted, metadata as JSON.

Rows are keyed by (environment, integration_id, connection_id). The ``credentials``
column holds only the encrypted token; ``auth_type`` and ``expires_at`` sit beside it in
clear so that listings never need the key (nor ever touch a secret).
"""

from __future__ import annotations

import builtins
import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Final

from nango_scripts.errors import (
    ConfigError,
    ConnectionExistsError,
    ConnectionNotFoundError,
    CredentialsError,
    InvalidCredentialsError,
    LimitError,
)
from nango_scripts.settings import Settings
from nango_scripts.store._connection import (
    AUTH_TYPE_OF_MODE,
    Connection,
    ConnectionSummary,
    credential_type,
    validate_credentials,
)
from nango_scripts.store._crypto import CredentialCipher, credentials_aad, load_key
from nango_scripts.store._db import Database, Row, guarded, store_errors
from nango_scripts.store._json_limits import check_stored_json, read_stored_json
from nango_scripts.store._sqlite import open_database

__all__ = ["ConnectionStore"]

logger = logging.getLogger("nango_scripts.store")

_COLUMNS: Final = (
    "integration_id, connection_id, environment, auth_type, expires_at,"
    " credentials, metadata, created_at, updated_at"
)
_SHOWN_IDS: Final = 20


class ConnectionStore:
    """Create, read, update and delete connections (synchronous; safe across threads).

    Open with :meth:`open`; use as a context manager or call :meth:`close`. The
    encryption key is loaded on first need, so listing and deleting work without it.
    """

    store_name: ClassVar[str] = "connections"

    def __init__(
        self, db: Database, settings: Settings, cipher: CredentialCipher | None = None
    ) -> None:
        self._db = db
        self._settings = settings
        self._cipher = cipher
        self._lock = threading.RLock()
        self.key_warning: str | None = None
        """Set when loading the key produced a warning for the user (key file created...)."""

    @classmethod
    def open(cls, settings: Settings) -> ConnectionStore:
        # FULL: a refreshed OAuth2 token must survive a power cut (see _sqlite).
        return cls(open_database(settings.database_url, synchronous="FULL"), settings)

    @property
    def environment(self) -> str:
        return self._settings.environment

    @guarded
    def use_settings(self, settings: Settings) -> None:
        """Check integrations and auth against ``settings`` from now on (nango.toml read
        again by a reload). The environment, database and encryption key stay as opened."""
        if settings.environment != self._settings.environment:
            raise ValueError("use_settings cannot change the environment of a ConnectionStore")
        with self._lock:
            self._settings = settings

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ConnectionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------

    @guarded
    def create(
        self,
        integration_id: str,
        connection_id: str,
        credentials: Mapping[str, Any],
        metadata: Mapping[str, Any] | None = None,
    ) -> Connection:
        """Store a new connection. The integration must be configured in nango.toml."""
        _check_id("integration id", integration_id)
        _check_id("connection id", connection_id)
        self._require_integration(integration_id)
        clean = self._check_credentials(integration_id, credentials)
        meta_json = _metadata_json(metadata if metadata is not None else {})
        meta = dict(json.loads(meta_json))
        token = self._encrypt(integration_id, connection_id, clean)
        now = datetime.now(UTC)
        try:
            with self._lock:
                self._db.execute(
                    f"INSERT INTO connections ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        integration_id,
                        connection_id,
                        self.environment,
                        credential_type(clean),
                        clean.get("expires_at"),
                        token,
                        meta_json,
                        now.isoformat(),
                        now.isoformat(),
                    ),
                )
        except store_errors() as exc:
            if not _is_unique_violation(exc):
                raise
            raise ConnectionExistsError(
                f"Connection '{connection_id}' of integration '{integration_id}' already exists"
                f" (environment '{self.environment}').",
                hint="Delete it first with: nango-scripts connections delete"
                f" {integration_id} {connection_id} --yes, or choose another connection id.",
            ) from None
        return Connection(
            integration_id=integration_id,
            connection_id=connection_id,
            credentials=clean,
            metadata=meta,
            environment=self.environment,
            created_at=now,
            updated_at=now,
        )

    @guarded
    def update_credentials(
        self, integration_id: str, connection_id: str, credentials: Mapping[str, Any]
    ) -> Connection:
        """Replace the credentials (after an OAuth2 refresh, say)."""
        clean = self._check_credentials(integration_id, credentials)
        token = self._encrypt(integration_id, connection_id, clean)
        self._update(
            integration_id,
            connection_id,
            "auth_type = ?, expires_at = ?, credentials = ?",
            (credential_type(clean), clean.get("expires_at"), token),
        )
        return self.get(integration_id, connection_id)

    @guarded
    def set_metadata(
        self, integration_id: str, connection_id: str, metadata: Mapping[str, Any]
    ) -> Connection:
        """Replace the metadata."""
        self._update(integration_id, connection_id, "metadata = ?", (_metadata_json(metadata),))
        return self.get(integration_id, connection_id)

    @guarded
    def update_metadata(
        self, integration_id: str, connection_id: str, metadata: Mapping[str, Any]
    ) -> Connection:
        """Merge ``metadata`` into the stored metadata, top-level keys only (Nango's way)."""
        _metadata_json(metadata)  # fail before taking the write lock
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT metadata FROM connections"
                    " WHERE environment = ? AND integration_id = ? AND connection_id = ?",
                    (self.environment, integration_id, connection_id),
                ).fetchone()
                if row is None:
                    raise self._not_found(integration_id, connection_id)
                merged = {**_stored_metadata(row[0], integration_id, connection_id), **metadata}
                self._db.execute(
                    "UPDATE connections SET metadata = ?, updated_at = ?"
                    " WHERE environment = ? AND integration_id = ? AND connection_id = ?",
                    (
                        _metadata_json(merged),
                        datetime.now(UTC).isoformat(),
                        self.environment,
                        integration_id,
                        connection_id,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return self.get(integration_id, connection_id)

    @guarded
    def set_webhook_url_override(
        self, integration_id: str, connection_id: str, url: str | None
    ) -> None:
        """Send this connection's webhooks to ``url`` instead of the environment's URLs
        (Nango's ``webhook_url_override``); None or "" goes back to them."""
        self._update(integration_id, connection_id, "webhook_url_override = ?", (url or None,))

    @guarded
    def get_webhook_url_override(self, integration_id: str, connection_id: str) -> str | None:
        with self._lock:
            row = self._db.one(
                "SELECT webhook_url_override FROM connections"
                " WHERE environment = ? AND integration_id = ? AND connection_id = ?",
                (self.environment, integration_id, connection_id),
            )
        if row is None:
            raise self._not_found(integration_id, connection_id)
        return None if not row[0] else str(row[0])

    @guarded
    def delete(self, integration_id: str, connection_id: str) -> None:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM connections"
                " WHERE environment = ? AND integration_id = ? AND connection_id = ?",
                (self.environment, integration_id, connection_id),
            )
        if cursor.rowcount == 0:
            raise self._not_found(integration_id, connection_id)

    # -- reading -------------------------------------------------------------------

    @guarded
    def get(self, integration_id: str, connection_id: str) -> Connection:
        """The connection with its credentials decrypted."""
        rows = self._select(
            "integration_id = ? AND connection_id = ?", integration_id, connection_id
        )
        if not rows:
            raise self._not_found(integration_id, connection_id)
        return self._decrypted(rows[0])

    @guarded
    def find(self, connection_id: str, integration_id: str | None = None) -> Connection:
        """By connection id alone when it is unique across integrations."""
        if integration_id is not None:
            return self.get(integration_id, connection_id)
        rows = self._select("connection_id = ?", connection_id)
        if len(rows) == 1:
            return self._decrypted(rows[0])
        if rows:
            owners = ", ".join(row["integration_id"] for row in rows)
            raise ConnectionNotFoundError(
                f"Connection id '{connection_id}' exists for several integrations ({owners}).",
                hint="Say which one with --integration ID.",
            )
        existing = [f"{s.integration_id}/{s.connection_id}" for s in self.summaries()]
        raise ConnectionNotFoundError(
            f"No connection '{connection_id}' in any integration"
            f" (environment '{self.environment}'). {_existing('Connections', existing)}",
            hint=_create_hint("INTEGRATION", connection_id),
        )

    @guarded
    def list(self, integration_id: str | None = None) -> builtins.list[Connection]:
        """Connections with credentials decrypted, by integration then connection id."""
        return [self._decrypted(row) for row in self._select_all(integration_id)]

    @guarded
    def summaries(self, integration_id: str | None = None) -> builtins.list[ConnectionSummary]:
        """Connections without credentials: no key needed, no secret read."""
        return [_summary(row) for row in self._select_all(integration_id)]

    @guarded
    def get_summary(self, integration_id: str, connection_id: str) -> ConnectionSummary:
        """One connection without credentials (ConnectionNotFoundError if absent)."""
        rows = self._select(
            "integration_id = ? AND connection_id = ?", integration_id, connection_id
        )
        if not rows:
            raise self._not_found(integration_id, connection_id)
        return _summary(rows[0])

    # -- internals -----------------------------------------------------------------

    def _select(self, where: str, *params: str) -> builtins.list[Row]:
        with self._lock:
            cursor = self._db.execute(
                f"SELECT {_COLUMNS} FROM connections WHERE environment = ? AND {where}"
                " ORDER BY integration_id, connection_id",
                (self.environment, *params),
            )
            return cursor.fetchall()

    def _select_all(self, integration_id: str | None) -> builtins.list[Row]:
        if integration_id is None:
            return self._select("1 = 1")
        return self._select("integration_id = ?", integration_id)

    def _update(
        self, integration_id: str, connection_id: str, assignments: str, values: tuple[Any, ...]
    ) -> None:
        with self._lock:
            cursor = self._db.execute(
                f"UPDATE connections SET {assignments}, updated_at = ?"
                " WHERE environment = ? AND integration_id = ? AND connection_id = ?",
                (
                    *values,
                    datetime.now(UTC).isoformat(),
                    self.environment,
                    integration_id,
                    connection_id,
                ),
            )
        if cursor.rowcount == 0:
            raise self._not_found(integration_id, connection_id)

    def _cipher_for_use(self) -> CredentialCipher:
        with self._lock:
            if self._cipher is None:
                loaded = load_key(self._settings)
                self.key_warning = loaded.warning
                self._cipher = CredentialCipher(loaded.key)
            return self._cipher

    def _encrypt(
        self, integration_id: str, connection_id: str, credentials: Mapping[str, Any]
    ) -> str:
        aad = credentials_aad(self.environment, integration_id, connection_id)
        return self._cipher_for_use().encrypt(credentials, aad)

    def _decrypted(self, row: Row) -> Connection:
        integration_id, connection_id = row["integration_id"], row["connection_id"]
        aad = credentials_aad(self.environment, integration_id, connection_id)
        try:
            credentials = self._cipher_for_use().decrypt(row["credentials"], aad)
        except CredentialsError as exc:
            raise CredentialsError(
                f"Cannot decrypt the credentials of connection '{connection_id}' of"
                f" integration '{integration_id}': {exc.message}",
                hint=exc.hint,
            ) from None
        return Connection(
            integration_id=integration_id,
            connection_id=connection_id,
            credentials=credentials,
            metadata=_stored_metadata(row["metadata"], integration_id, connection_id),
            environment=row["environment"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )

    def _require_integration(self, integration_id: str) -> None:
        known = self._settings.integrations
        if integration_id in known:
            return
        listed = ", ".join(sorted(known)) if known else "none"
        raise ConfigError(
            f"Integration '{integration_id}' is not configured in nango.toml"
            f" (configured: {listed}); a connection needs its integration to run.",
            hint=f'Add [integrations.{integration_id}] with provider = "..." (or base_url'
            f" and auth) to {self._settings.project_dir / 'nango.toml'}.",
        )

    def _check_credentials(
        self, integration_id: str, credentials: Mapping[str, Any]
    ) -> dict[str, Any]:
        clean = validate_credentials(credentials)
        check_stored_json("credentials object", clean)
        provider = self._settings.integrations.get(integration_id)
        if provider is not None:
            wanted = AUTH_TYPE_OF_MODE[provider.auth]
            got = credential_type(clean)
            if got != wanted:
                example = "{}" if wanted == "NONE" else f'{{"type": "{wanted}", ...}}'
                raise InvalidCredentialsError(
                    f"Integration '{integration_id}' uses auth = \"{provider.auth}\", so its"
                    f" connections need {wanted} credentials ({example}), not {got}.",
                    hint="Change the credentials, or the integration's auth in nango.toml.",
                )
        return clean

    def _not_found(self, integration_id: str, connection_id: str) -> ConnectionNotFoundError:
        existing = [s.connection_id for s in self.summaries(integration_id)]
        return ConnectionNotFoundError(
            f"No connection '{connection_id}' for integration '{integration_id}'"
            f" (environment '{self.environment}')."
            f" {_existing(f'Connections of {integration_id}', existing)}",
            hint=_create_hint(integration_id, connection_id),
        )


def _summary(row: Row) -> ConnectionSummary:
    return ConnectionSummary(
        integration_id=row["integration_id"],
        connection_id=row["connection_id"],
        environment=row["environment"],
        auth_type=row["auth_type"],
        expires_at=row["expires_at"],
        metadata=_stored_metadata(row["metadata"], row["integration_id"], row["connection_id"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _is_unique_violation(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return getattr(exc, "sqlstate", None) == "23505"


def _check_id(what: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"The {what} must be a non-empty string.")
    if any(ord(char) < 32 for char in value):
        raise ConfigError(f"The {what} {value!r} contains control characters.")


def _metadata_json(metadata: Mapping[str, Any]) -> str:
    if not isinstance(metadata, Mapping):
        raise LimitError(
            f"The connection metadata must be a JSON object, not {type(metadata).__name__}."
        )
    return check_stored_json("connection metadata", dict(metadata))


def _stored_metadata(text: str, integration_id: str, connection_id: str) -> dict[str, Any]:
    """The stored metadata; one that no reader could serve (stored before the limits, or
    altered in the database) reads as empty, so that it never breaks a listing."""
    value = read_stored_json(text)
    if isinstance(value, dict):
        return value
    logger.warning(
        "the metadata of connection %r of integration %r breaks the limits of stored JSON"
        " (nesting, text) and reads as empty: replace it (POST /connections/metadata)",
        connection_id,
        integration_id,
    )
    return {}


def _existing(label: str, ids: builtins.list[str]) -> str:
    if not ids:
        return "There are none yet."
    shown = ", ".join(ids[:_SHOWN_IDS])
    more = f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else ""
    return f"{label}: {shown}{more}."


def _create_hint(integration_id: str, connection_id: str) -> str:
    return (
        f"Create it with: nango-scripts connections create {integration_id} {connection_id}"
        " --credentials '{...}', or list them with: nango-scripts connections list"
    )
