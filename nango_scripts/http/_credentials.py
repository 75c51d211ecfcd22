"""Reading a connection's credentials (Nango's import shapes) and OAuth2 token responses.

Pure helpers: they check shapes and convert values, raising errors that show the
expected shape, so a wrongly imported connection is a clear message, not a KeyError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from nango_scripts.errors import AuthRefreshError, CredentialsError
from nango_scripts.http._urls import scrub_url

__all__ = [
    "SHAPES",
    "check_credentials",
    "format_expires_at",
    "parse_expires_at",
    "parse_token_response",
    "require_field",
]

SHAPES = {
    "none": "{}",
    "api_key": '{"type": "API_KEY", "apiKey": "..."}',
    "basic": '{"type": "BASIC", "username": "...", "password": "..."}',
    "oauth2": '{"type": "OAUTH2", "access_token": "...", "refresh_token": "...", "expires_at": "<ISO 8601>"}',
    "oauth2_cc": '{"type": "OAUTH2_CC", "client_id": "...", "client_secret": "..."}',
}
_TYPES = {"api_key": "API_KEY", "basic": "BASIC", "oauth2": "OAUTH2", "oauth2_cc": "OAUTH2_CC"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_credentials(credentials: Mapping[str, Any], mode: str, provider: str) -> None:
    """Refuse credentials whose ``type`` belongs to another auth mode."""
    if not isinstance(credentials, Mapping):
        raise CredentialsError(
            f"Credentials for provider {provider!r} must be a JSON object, "
            f"not {type(credentials).__name__}. Expected: {SHAPES.get(mode, '{}')}"
        )
    given = credentials.get("type")
    wanted = _TYPES.get(mode)
    if given is not None and wanted is not None and str(given).upper() != wanted:
        raise CredentialsError(
            f"The connection's credentials are of type {given!r} but provider {provider!r} "
            f"uses auth {mode!r}. Expected: {SHAPES[mode]}"
        )


def require_field(credentials: Mapping[str, Any], mode: str, provider: str, *names: str) -> str:
    """The first non-empty field among ``names`` (aliases), or a CredentialsError naming it."""
    for name in names:
        value = credentials.get(name)
        if value not in (None, ""):
            return str(value)
    raise CredentialsError(
        f"The connection's credentials lack {names[0]!r}, needed by provider {provider!r} "
        f"(auth {mode!r}). Expected: {SHAPES[mode]}"
    )


def parse_expires_at(value: Any, provider: str = "") -> float | None:
    """``expires_at`` (ISO 8601 string, datetime or Unix time) as a Unix time; naive means UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    when = value
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise CredentialsError(
                f"expires_at {value!r} in the credentials of provider {provider!r} is not an "
                "ISO 8601 date-time (e.g. 2025-01-31T12:00:00Z)."
            ) from None
    if not isinstance(when, datetime):
        raise CredentialsError(
            f"expires_at must be an ISO 8601 string, got {type(value).__name__}."
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def format_expires_at(timestamp: float) -> str:
    """A Unix time as ISO 8601 UTC with a ``Z``, the way Nango writes ``expires_at``."""
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def parse_token_response(response: httpx.Response, what: str) -> dict[str, Any]:
    """The token endpoint's answer as a dict holding at least ``access_token``.

    Accepts JSON or form-encoded bodies (some providers still answer the latter).
    Never puts a successful body in an error message: it may carry tokens.
    """
    url = scrub_url(str(response.request.url))
    status = response.status_code
    text = response.text
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = dict(parse_qsl(text)) if "=" in text else None
    if not 200 <= status < 300 or not isinstance(payload, dict) or "error" in payload:
        detail = text[:500]
        if isinstance(payload, dict) and "error" in payload:
            detail = f"{payload.get('error')}: {payload.get('error_description', '')}".strip(": ")
        raise AuthRefreshError(
            f"Could not {what}: POST {url} failed with {status} {response.reason_phrase}: {detail}",
            method="POST",
            url=url,
            status=status,
            body=text[:500] if status >= 400 else "",
            hint="Check the client id/secret and token_url; an expired or revoked refresh "
            "token needs the connection to be authorized again.",
        )
    if not payload.get("access_token"):
        raise AuthRefreshError(
            f"Could not {what}: the answer of POST {url} has no access_token "
            f"(keys: {', '.join(sorted(payload))}).",
            method="POST",
            url=url,
            status=status,
        )
    for name in ("access_token", "refresh_token"):
        if _CONTROL.search(str(payload.get(name) or "")):
            # Not quoted: it is a token, and it could not go into a header anyway.
            raise AuthRefreshError(
                f"Could not {what}: the {name} in the answer of POST {url} holds a control "
                "character, which cannot go into an HTTP header.",
                method="POST",
                url=url,
                status=status,
            )
    return payload
