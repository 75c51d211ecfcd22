"""Keeping secrets out of the Activity log: :class:`SecretScrubber` masks a connection's
credential values wherever they appear, and the values of fields named like a secret;
the ``capped_*`` helpers bound what one message may weigh."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "SecretScrubber", "capped_fields", "capped_text"]

MASK: Final = "***"
_SENSITIVE_NAME = re.compile(
    r"authorization|cookie|api[-_]?key|secret|passw(or)?d|token|credential|private[-_]?key"
    r"|signature|hmac",
    re.IGNORECASE,
)
_NOT_SECRET_CREDENTIALS: Final = frozenset({"type", "expires_at", "username", "client_id"})
# In a token endpoint's answer (``raw``): named like a secret, but not one.
_NOT_SECRET_RAW: Final = frozenset({"token_type", "expires_in", "expires_at", "scope", "scopes"})
_MIN_SECRET_LENGTH: Final = 4
_MAX_MESSAGE_CHARS: Final = 8_000
_MAX_FIELDS_CHARS: Final = 16_000


class SecretScrubber:
    """Masks the credential values it was given, wherever they appear."""

    def __init__(self, credentials: Mapping[str, Any] | None = None) -> None:
        self._found: set[str] = set()
        self._secrets: tuple[str, ...] = ()
        if credentials:
            self.add(credentials)

    def add(self, credentials: Mapping[str, Any]) -> None:
        """Mask these credentials too (a refreshed token), besides the ones given before."""
        found = set(self._found)
        for name, value in credentials.items():
            if name in _NOT_SECRET_CREDENTIALS:
                continue
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, Mapping):  # OAuth2 ``raw``: the token endpoint's answer
                found.update(_named_secrets(value))
        user, password = credentials.get("username"), credentials.get("password")
        if isinstance(user, str) and isinstance(password, str):
            found.add(base64.b64encode(f"{user}:{password}".encode()).decode())
        variants: set[str] = set()
        for secret in found:
            if len(secret) < _MIN_SECRET_LENGTH:
                continue
            variants.update(
                {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
            )
        self._found = found
        # Longest first: a secret that contains another is masked whole. One assignment,
        # so a thread scrubbing meanwhile sees the old tuple or the new one.
        self._secrets = tuple(sorted(variants, key=len, reverse=True))

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def value(self, value: Any) -> Any:
        """``value`` with secrets masked; mappings keep their keys, masking sensitive ones' values."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                self.text(str(k)): MASK if _SENSITIVE_NAME.search(str(k)) else self.value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.text(str(value))


def _named_secrets(values: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for name, value in values.items():
        if str(name).lower() in _NOT_SECRET_RAW:
            continue
        if isinstance(value, str) and _SENSITIVE_NAME.search(str(name)):
            found.add(value)
        elif isinstance(value, Mapping):
            found.update(_named_secrets(value))
    return found


def capped_fields(fields: Any) -> dict[str, Any]:
    if not isinstance(fields, dict):
        fields = {"value": fields}
    dumped = json.dumps(fields, ensure_ascii=False, default=str)
    if len(dumped) <= _MAX_FIELDS_CHARS:
        return dict(json.loads(dumped))
    return {"truncated": True, "preview": dumped[:2_000]}


def capped_text(text: str) -> str:
    if len(text) <= _MAX_MESSAGE_CHARS:
        return text
    return text[:_MAX_MESSAGE_CHARS] + f"... ({len(text) - _MAX_MESSAGE_CHARS} more characters)"
