"""Keeping secrets out of the Activity log and the service's own log:
:class:`SecretScrubber` masks a connection's credential values (and any other values it
is given: what a caller sent) wherever they appear, and the values of fields named like
a secret (:func:`~nango_scripts.http.is_secret_name`, the rule of URLs' query parameters
too); :func:`shown_url` cuts a URL that may hold a token in its path (a webhook URL) down
to its scheme, host and first path segment; :func:`masked_error` and :func:`masked_log`
mask a run's error and the log lines the CLI prints; the ``capped_*`` helpers bound what
one message may weigh."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

from nango_scripts.http import is_secret_name
from nango_scripts.runtime import LogRecord, RunResult

__all__ = [
    "MASK",
    "SecretScrubber",
    "capped_fields",
    "capped_text",
    "masked_error",
    "masked_log",
    "shown_url",
]

MASK: Final = "***"
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
        found: set[str] = set()
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
        self.add_values(found)

    def add_values(self, values: Iterable[str]) -> None:
        """Mask these values too (what a caller sent in headers), wherever they appear."""
        found = self._found | set(values)
        if found == self._found:
            return
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

    def with_values(self, values: Iterable[str]) -> SecretScrubber:
        """:meth:`add_values`, returning this scrubber."""
        self.add_values(values)
        return self

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
                self.text(str(k)): MASK if is_secret_name(str(k)) else self.value(v)
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
        if isinstance(value, str) and is_secret_name(str(name)):
            found.add(value)
        elif isinstance(value, Mapping):
            found.update(_named_secrets(value))
    return found


def shown_url(url: str) -> str:
    """``url`` as logs, pages and errors show it: its scheme, host and first path segment,
    the rest masked (``https://hooks.slack.com/services/***``). A webhook URL often is
    its own credential, with its token in the path (Slack, Discord, Zapier) or the query.

    Plain string work, not a URL parser: a URL no parser accepts is cut as well (and one
    without a scheme is masked whole: its host cannot be told from a token).
    """
    return _cut_url(url)[0]


def without_url(text: str, url: str) -> str:
    """``text`` (an error about ``url``) with ``url`` shown as :func:`shown_url` shows it,
    and what that hides of it (the path's tail, the query, a password) masked anywhere."""
    shown, hidden = _cut_url(url)
    if url.strip():
        text = text.replace(url.strip(), shown)
    return SecretScrubber().with_values(hidden).text(text) if hidden else text


def _cut_url(url: str) -> tuple[str, list[str]]:
    """(what :func:`shown_url` shows, the parts it hides)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        return (MASK, [url]) if url else ("", [])
    ends = [i for i in (rest.find(mark) for mark in "/?#") if i != -1]
    cut = min(ends, default=len(rest))
    userinfo, _, host = rest[:cut].rpartition("@")
    shown, hidden = f"{scheme}://{host}", [userinfo, *userinfo.split(":")] if userinfo else []
    tail = rest[cut:]
    if tail.startswith("/"):
        segment = re.split(r"[/?#]", tail[1:], maxsplit=1)[0]
        shown += f"/{segment}"
        tail = tail[len(segment) + 1 :]
    if tail in ("", "/"):
        return shown + tail, hidden
    return shown + tail[0] + MASK, [*hidden, tail[1:], *re.split(r"[/?&=#]", tail[1:])]


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


def masked_log(
    on_log: Callable[[LogRecord], None] | None, scrub: SecretScrubber
) -> Callable[[LogRecord], None] | None:
    """``on_log`` seeing each record masked by ``scrub``: for logs printed by the CLI, which
    may quote an upstream body that echoes the credentials."""
    if on_log is None:
        return None
    printed = on_log

    def masked(record: LogRecord) -> None:
        fields = scrub.value(record.fields)
        printed(dataclasses.replace(record, message=scrub.text(record.message), fields=fields))

    return masked


def masked_error(result: RunResult, scrub: SecretScrubber) -> RunResult:
    """``result`` with its error message masked by ``scrub`` (it may quote an upstream body
    that echoes the credentials, and it is shown: a 424, the CLI, a stored action run)."""
    if result.error is not None:
        message = scrub.text(result.error.message)
        if message != result.error.message:
            result.error = dataclasses.replace(result.error, message=message)
    return result
