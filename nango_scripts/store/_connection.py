"""A connection, its secret-free summary, and the credential shapes it accepts.

Credentials use Nango's import shapes (SPEC 2). :func:`validate_credentials` is pure:
it checks one dict and returns it normalised, naming the offending field otherwise.
Error messages never quote a credential value, only its JSON type. A control character
(a line break, NUL, ...) is refused in every text field: keys, tokens and passwords go
into HTTP headers, where it would break the request or inject another header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from nango_scripts.errors import InvalidCredentialsError

AuthType = Literal["NONE", "API_KEY", "BASIC", "OAUTH2", "OAUTH2_CC"]

AUTH_TYPE_OF_MODE: Final[Mapping[str, AuthType]] = {
    "none": "NONE",
    "api_key": "API_KEY",
    "basic": "BASIC",
    "oauth2": "OAUTH2",
    "oauth2_cc": "OAUTH2_CC",
}
"""``auth`` of an integration in nango.toml -> the credential ``type`` it needs."""


@dataclass(frozen=True)
class Connection:
    """One account of one customer on one integration. Credentials are decrypted here."""

    integration_id: str
    connection_id: str
    credentials: Mapping[str, Any] = field(repr=False)
    """Nango's import shape: ``{"type": "API_KEY", "apiKey": ...}``, ``{"type": "OAUTH2", ...}``..."""
    metadata: Mapping[str, Any]
    environment: str
    created_at: datetime
    updated_at: datetime

    @property
    def auth_type(self) -> AuthType:
        return credential_type(self.credentials)


@dataclass(frozen=True)
class ConnectionSummary:
    """A connection without its secrets: what listings show. Read without the key."""

    integration_id: str
    connection_id: str
    environment: str
    auth_type: AuthType
    expires_at: str | None
    """OAuth2 access token expiry (ISO, UTC), when the credentials carry one."""
    metadata: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _Shape:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    example: str


_SHAPES: Final[dict[AuthType, _Shape]] = {
    "NONE": _Shape((), (), '{} (or {"type": "NONE"})'),
    "API_KEY": _Shape(("apiKey",), (), '{"type": "API_KEY", "apiKey": "<key>"}'),
    "BASIC": _Shape(
        ("username", "password"),
        (),
        '{"type": "BASIC", "username": "<user>", "password": "<password>"}',
    ),
    "OAUTH2": _Shape(
        ("access_token",),
        ("refresh_token", "expires_at", "client_id", "client_secret", "raw"),
        '{"type": "OAUTH2", "access_token": "<token>", "refresh_token": "<token>" (optional),'
        ' "expires_at": "2030-01-01T00:00:00Z" (optional)}',
    ),
    "OAUTH2_CC": _Shape(
        ("client_id", "client_secret"),
        ("token", "expires_at", "raw"),
        '{"type": "OAUTH2_CC", "client_id": "<id>", "client_secret": "<secret>"}',
    ),
}

# Fields that may be an empty string (an API key used as the username, no password).
_MAY_BE_EMPTY: Final = frozenset({"password"})
_OBJECT_FIELDS: Final = frozenset({"raw"})
# C0 controls and DEL: no HTTP header may carry them (a tab neither, in a credential).
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def credential_type(credentials: Mapping[str, Any]) -> AuthType:
    """The type of credentials already validated by :func:`validate_credentials`."""
    kind = credentials.get("type", "NONE")
    return kind if kind in _SHAPES else "NONE"


def validate_credentials(credentials: object) -> dict[str, Any]:
    """Check ``credentials`` against Nango's import shapes; return a normalised copy.

    ``{"type": "NONE"}`` becomes ``{}`` and ``expires_at`` becomes ISO UTC. Raises
    :class:`CredentialsError` naming the field and showing the expected shape.
    """
    if not isinstance(credentials, Mapping):
        raise InvalidCredentialsError(
            f"Credentials must be a JSON object, not {_json_type(credentials)}.",
            hint=_all_shapes_hint(),
        )
    if not credentials:
        return {}
    if "type" not in credentials:
        raise InvalidCredentialsError('Credentials need a "type" field.', hint=_all_shapes_hint())
    kind = credentials["type"]
    if not isinstance(kind, str) or kind not in _SHAPES:
        shown = f'"{kind}"' if isinstance(kind, str) else _json_type(kind)
        raise InvalidCredentialsError(
            f'Credentials field "type" is {shown}; it must be one of {", ".join(_SHAPES)}.',
            hint=_all_shapes_hint(),
        )
    shape = _SHAPES[kind]
    expected = f"Expected: {shape.example}"
    allowed = {"type", *shape.required, *shape.optional}
    for name in credentials:
        if name not in allowed:
            fields = ", ".join(f'"{f}"' for f in (*shape.required, *shape.optional))
            raise InvalidCredentialsError(
                f'Credentials field "{name}" is not part of {kind} credentials'
                f" (fields: {fields or 'none'}).",
                hint=expected,
            )
    for name in shape.required:
        if name not in credentials:
            raise InvalidCredentialsError(
                f'Credentials field "{name}" is missing for {kind} credentials.', hint=expected
            )
    result: dict[str, Any] = {}
    for name, value in credentials.items():
        if name == "type":
            continue
        if name in _OBJECT_FIELDS:
            if not isinstance(value, Mapping):
                raise InvalidCredentialsError(
                    f'Credentials field "{name}" must be a JSON object, not {_json_type(value)}.',
                    hint=expected,
                )
            result[name] = dict(value)
            continue
        if not isinstance(value, str):
            raise InvalidCredentialsError(
                f'Credentials field "{name}" must be a string, not {_json_type(value)}.',
                hint=expected,
            )
        if not value.strip() and name not in _MAY_BE_EMPTY:
            raise InvalidCredentialsError(f'Credentials field "{name}" is empty.', hint=expected)
        control = _CONTROL.search(value)
        if control is not None:
            raise InvalidCredentialsError(
                f'Credentials field "{name}" holds a control character'
                f" (U+{ord(control.group()):04X}), which cannot go into an HTTP header.",
                hint="Check for a line break or tab pasted with the value.",
            )
        result[name] = _iso_utc(value, expected) if name == "expires_at" else value
    if kind == "NONE":
        return {}
    return {"type": kind, **result}


def _iso_utc(value: str, expected: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidCredentialsError(
            'Credentials field "expires_at" is not an ISO 8601 date and time'
            ' (e.g. "2030-01-01T00:00:00Z").',
            hint=expected,
        ) from None
    if moment.tzinfo is None:  # Nango's timestamps are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _all_shapes_hint() -> str:
    return "Accepted shapes: " + "; ".join(shape.example for shape in _SHAPES.values())
