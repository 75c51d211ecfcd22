"""Credentials at rest: AES-GCM with a per-encryption nonce, bound to their connection.

A token reads ``v1:<key id>:<base64url(nonce || ciphertext)>``. The key id (4 bytes of an
HMAC of the key, which reveals nothing of it) tells "wrong key" apart from "ciphertext
that does not belong here". The associated data binds a token to (environment,
integration, connection): a token copied to another row does not decrypt.

The key comes from ``NANGO_ENCRYPTION_KEY`` (base64 of 32 bytes, Nango's format) or, for
local work, from ``<project>/.nango/encryption.key``, created on first use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nango_scripts.errors import ConfigError, CredentialsError
from nango_scripts.settings import Settings

__all__ = [
    "KEY_FILE_NAME",
    "CredentialCipher",
    "EncryptionKey",
    "credentials_aad",
    "load_key",
    "load_or_create_key",
    "parse_key",
]

logger = logging.getLogger("nango_scripts.store")
# A library does not print by itself: without this, logging's last-resort handler would
# write our warnings to stderr a second time next to the CLI's own "Warning: ..." line.
logger.addHandler(logging.NullHandler())

KEY_FILE_NAME: Final = "encryption.key"
MAKE_KEY_COMMAND: Final = (
    'python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'
)
_VERSION: Final = "v1"
_NONCE_SIZE: Final = 12
_KEY_SIZES: Final = (16, 24, 32)
_AAD_LABEL: Final = "nango-scripts/credentials/v1"
_WRONG_KEY_HINT: Final = (
    "Set NANGO_ENCRYPTION_KEY (or <project>/.nango/encryption.key) back to the key that was"
    " in use when the credentials were stored, or delete the connection and create it again."
)


def credentials_aad(environment: str, integration_id: str, connection_id: str) -> bytes:
    """The associated data that ties a token to its connection (unambiguous JSON)."""
    return json.dumps(
        [_AAD_LABEL, environment, integration_id, connection_id], separators=(",", ":")
    ).encode()


class CredentialCipher:
    """Encrypts credential dicts into versioned tokens and back."""

    def __init__(self, key: bytes) -> None:
        if len(key) not in _KEY_SIZES:
            raise ConfigError(
                f"An encryption key must be 16, 24 or 32 bytes long, not {len(key)}.",
                hint=f"Make one with: {MAKE_KEY_COMMAND}",
            )
        self._aead = AESGCM(key)
        self._key_id = hmac.new(key, b"nango-scripts key id", hashlib.sha256).hexdigest()[:8]

    @property
    def key_id(self) -> str:
        """A short fingerprint of the key, safe to show."""
        return self._key_id

    def __repr__(self) -> str:
        return f"CredentialCipher(key_id={self._key_id!r})"

    def encrypt(self, credentials: Mapping[str, Any], aad: bytes) -> str:
        plaintext = json.dumps(dict(credentials), separators=(",", ":"), sort_keys=True).encode()
        nonce = os.urandom(_NONCE_SIZE)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, aad)
        payload = base64.urlsafe_b64encode(sealed).decode("ascii")
        return f"{_VERSION}:{self._key_id}:{payload}"

    def decrypt(self, token: str, aad: bytes) -> dict[str, Any]:
        version, _, rest = token.partition(":")
        key_id, _, payload = rest.partition(":")
        if version != _VERSION:
            raise CredentialsError(
                f"The stored credentials are in an unknown format ({version[:8]!r}),"
                " perhaps written by a newer nango-scripts.",
                hint="Upgrade nango-scripts, or delete the connection and create it again.",
            )
        if not key_id or not payload or not key_id.isascii():
            raise _damaged()
        if not hmac.compare_digest(key_id, self._key_id):
            raise CredentialsError(
                "The encryption key does not match the one the credentials were encrypted with"
                f" (key id {self._key_id}, credentials encrypted with key id {key_id[:8]}).",
                hint=_WRONG_KEY_HINT,
            )
        try:
            sealed = base64.urlsafe_b64decode(payload.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            sealed = b""
        if len(sealed) <= _NONCE_SIZE:
            raise _damaged()
        try:
            plaintext = self._aead.decrypt(sealed[:_NONCE_SIZE], sealed[_NONCE_SIZE:], aad)
        except InvalidTag:
            raise CredentialsError(
                "The stored credentials do not belong to this connection: they were copied"
                " from another connection or environment, or altered.",
                hint="Delete the connection and create it again with its own credentials.",
            ) from None
        value = json.loads(plaintext)
        if not isinstance(value, dict):
            raise CredentialsError("The stored credentials are not a JSON object.")
        return value


def _damaged() -> CredentialsError:
    return CredentialsError(
        "The stored credentials are damaged (not a readable token).",
        hint="Delete the connection and create it again.",
    )


@dataclass(frozen=True)
class EncryptionKey:
    """A loaded key, where it came from, and what the user should be told about it."""

    key: bytes = field(repr=False)
    source: str
    """``NANGO_ENCRYPTION_KEY`` or the key file's path."""
    created: bool = False
    """True when the key file was generated just now."""
    warning: str | None = None


def parse_key(value: str, *, source: str) -> bytes:
    """Base64 (standard or URL-safe) of 16, 24 or 32 bytes -> the key. Never echoes ``value``."""
    text = value.strip()
    key: bytes | None = None
    for altchars in (None, b"-_"):
        try:
            key = base64.b64decode(text, altchars=altchars, validate=True)
            break
        except (binascii.Error, ValueError):
            continue
    if key is None or len(key) not in _KEY_SIZES:
        problem = "is not valid base64" if key is None else f"decodes to {len(key)} bytes"
        raise ConfigError(
            f"The encryption key in {source} {problem}; it must be the base64 of 32 random"
            " bytes (Nango's format; 16 or 24 bytes are accepted too).",
            hint=f"Make one with: {MAKE_KEY_COMMAND}",
        )
    return key


def load_key(settings: Settings) -> EncryptionKey:
    """The key from ``NANGO_ENCRYPTION_KEY``, else the project's key file (created if absent).

    Warnings (key file just created, key file readable by others) are logged on the
    ``nango_scripts.store`` logger and returned for the CLI to print.
    """
    if settings.encryption_key and settings.encryption_key.strip():
        return EncryptionKey(
            parse_key(settings.encryption_key, source="NANGO_ENCRYPTION_KEY"),
            source="NANGO_ENCRYPTION_KEY",
        )
    path = settings.state_dir / KEY_FILE_NAME
    try:
        loaded = _read_key_file(path) if path.exists() else _create_key_file(path)
    except OSError as exc:
        raise ConfigError(
            f"Cannot use the encryption key file {path}: {exc.strerror or exc}.",
            hint="Fix its permissions, or set NANGO_ENCRYPTION_KEY.",
        ) from exc
    if loaded.warning:
        logger.warning("%s", loaded.warning)
    return loaded


def load_or_create_key(settings: Settings) -> bytes:
    """:func:`load_key`, the key only."""
    return load_key(settings).key


def _read_key_file(path: Path) -> EncryptionKey:
    text = path.read_text(encoding="ascii", errors="replace")
    for _ in range(20):  # another process may have created it and not written it yet
        if text.strip():
            break
        time.sleep(0.05)
        text = path.read_text(encoding="ascii", errors="replace")
    key = parse_key(text, source=str(path))
    warning = None
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            warning = (
                f"The encryption key file {path} can be read by other users (mode {mode:04o});"
                f" restrict it with: chmod 600 {path}"
            )
    return EncryptionKey(key, source=str(path), warning=warning)


def _create_key_file(path: Path) -> EncryptionKey:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        # O_EXCL with mode 0600 from the start: never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created by a concurrent process
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(base64.b64encode(key).decode("ascii") + "\n")
        file.flush()
        os.fsync(file.fileno())
    warning = (
        f"NANGO_ENCRYPTION_KEY is not set: created encryption key at {path}; set"
        " NANGO_ENCRYPTION_KEY in production (and keep this file: without it the stored"
        " credentials cannot be decrypted)."
    )
    return EncryptionKey(key, source=str(path), created=True, warning=warning)
