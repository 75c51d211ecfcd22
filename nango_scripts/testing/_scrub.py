"""Taking secrets out of recorded HTTP exchanges and outputs, before anything is written.

What goes (see docs/testing.md):

- request headers ``Authorization``, ``Proxy-Authorization``, ``Cookie``, the provider's
  ``api_key_header`` and any header whose name says api-key, token, secret, password or
  auth;
  response headers ``Set-Cookie`` (and the same auth headers): replaced by ``<<redacted>>``;
- query parameters named like credentials (``api_key``, ``access_token``...) and the
  provider's ``api_key_query``: the value becomes ``<<name>>``;
- JSON and form bodies (both ways): the values of fields named like credentials
  (``access_token``, ``refresh_token``, ``id_token``, ``client_secret``, ``password``...)
  become ``<<field>>`` and are *learned*, so a token a token endpoint handed out is
  replaced wherever it shows up later;
- every string credential value of the connection, and every learned value, wherever it
  appears (URL, headers, bodies, outputs; also URL- and JSON-encoded, and the
  ``user:password`` base64 of basic auth): replaced by ``<<name>>``, e.g. ``<<apiKey>>``.

A replay runs with a stand-in connection whose credentials are those same placeholders
(:func:`placeholder_credentials`), and requests are scrubbed the same way before they are
matched, so placeholders meet placeholders. Pure code: no vcrpy, no I/O.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from nango_scripts.providers import ProviderConfig

__all__ = [
    "FAR_FUTURE",
    "REDACTED",
    "SECRET_FIELDS",
    "Scrubber",
    "is_secret_field",
    "placeholder",
    "placeholder_credentials",
]

REDACTED = "<<redacted>>"
FAR_FUTURE = "2999-12-31T00:00:00+00:00"
"""``expires_at`` of a stand-in OAuth2 connection: its token never looks stale in a replay."""

SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "api_key",
        "apikey",
        "password",
        "secret",
        "private_key",
    }
)
"""Field and query parameter names (lower case, ``-`` read as ``_``) whose values are secrets."""

MIN_SUBSTRING = 4
"""Shorter secrets are replaced only where they are a whole value, not inside other text."""

_PLACEHOLDER = r"<<[A-Za-z0-9_.\-]+>>"
_IS_PLACEHOLDER = re.compile(_PLACEHOLDER)
_REQUEST_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_REQUEST_HEADER_PARTS = ("api-key", "apikey", "api_key", "token", "secret", "password", "auth")
_RESPONSE_HEADERS = frozenset({"set-cookie", "set-cookie2", "authorization", "proxy-authorization"})
_NOT_SECRET_CREDENTIALS = frozenset({"type", "expires_at"})


def placeholder(name: str) -> str:
    """``<<name>>``: what a secret called ``name`` is replaced with."""
    return f"<<{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}>>"


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def is_secret_field(name: str) -> bool:
    return _norm(name) in SECRET_FIELDS


def placeholder_credentials(credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The credentials a replay runs with: same fields, every secret a placeholder.

    ``expires_at`` moves far into the future, so a replay never refreshes a token on
    its own (a refresh the recording did after a 401 is in the cassette and replays).
    """
    out: dict[str, Any] = {}
    for name, value in credentials.items():
        if name == "type":
            out[name] = value
        elif name == "expires_at":
            out[name] = FAR_FUTURE
        elif isinstance(value, str):
            out[name] = placeholder(name) if value else value
    return out


def default_placeholder_credentials(auth: str) -> dict[str, Any]:
    """Stand-in credentials for ``auth`` when a cassette does not say which were recorded."""
    shapes: dict[str, dict[str, Any]] = {
        "api_key": {"type": "API_KEY", "apiKey": "x"},
        "basic": {"type": "BASIC", "username": "x", "password": "x"},
        "oauth2": {
            "type": "OAUTH2",
            "access_token": "x",
            "refresh_token": "x",
            "expires_at": "x",
        },
        "oauth2_cc": {"type": "OAUTH2_CC", "client_id": "x", "client_secret": "x"},
    }
    return placeholder_credentials(shapes.get(auth, {}))


class Scrubber:
    """Replaces the secrets of one connection (and those learned on the way) by placeholders.

    ``request`` and ``response`` are vcrpy's ``before_record_request`` and
    ``before_record_response`` hooks; ``interaction`` is its ``before_save_interaction``
    hook, a last pass with every secret learned during the run; ``data`` scrubs any
    JSON-like value (outputs, run parameters).
    """

    def __init__(self, provider: ProviderConfig, credentials: Mapping[str, Any]) -> None:
        self._known: dict[str, str] = {}
        """Secret, as it may be written (raw, URL-encoded, JSON-escaped) -> its placeholder."""
        self._exact: dict[str, str] = {}
        """Every secret, however short -> its placeholder (replaced where it is a whole value)."""
        self._pattern: re.Pattern[str] | None = None
        names = set(SECRET_FIELDS)
        if provider.api_key_query:
            names.add(_norm(provider.api_key_query))
        self.secret_query_names = frozenset(names)
        self._request_headers = set(_REQUEST_HEADERS)
        self._response_headers = set(_RESPONSE_HEADERS)
        if provider.auth == "api_key" and not provider.api_key_query:
            self._request_headers.add(provider.api_key_header.lower())
            self._response_headers.add(provider.api_key_header.lower())
        for name, value in credentials.items():
            if name in _NOT_SECRET_CREDENTIALS:
                continue
            if isinstance(value, str):
                self.learn(value, name)
            elif isinstance(value, Mapping):
                self._learn_fields(value)
        username, password = credentials.get("username"), credentials.get("password")
        if isinstance(username, str) and username:
            basic = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self.learn(basic, "basic_auth")

    # -- secrets -------------------------------------------------------------------------

    def learn(self, value: str, name: str) -> None:
        """Replace ``value`` by ``<<name>>`` from now on, wherever it appears."""
        if not value or _IS_PLACEHOLDER.fullmatch(value):
            return
        mark = placeholder(name)
        self._exact.setdefault(value, mark)
        if len(value) < MIN_SUBSTRING:
            return
        forms = (
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        )
        for form in forms:
            if form not in self._known:
                self._known[form] = mark
                self._pattern = None

    def _learn_fields(self, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, str) and is_secret_field(str(key)):
                    self.learn(item, str(key))
                else:
                    self._learn_fields(item)
        elif isinstance(value, list):
            for item in value:
                self._learn_fields(item)

    def text(self, value: str) -> str:
        """``value`` with every known secret replaced (placeholders are left alone)."""
        if not self._known or not value:
            return value
        if self._pattern is None:
            secrets = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile("|".join([_PLACEHOLDER, *(re.escape(s) for s in secrets)]))
        known = self._known
        return self._pattern.sub(lambda m: known.get(m.group(0), m.group(0)), value)

    def _value(self, value: str) -> str:
        return self._exact.get(value) or self.text(value)

    def data(self, value: Any, *, fields: bool = False) -> Any:
        """A JSON-like value with secrets replaced.

        ``fields=True`` (bodies of HTTP exchanges) also replaces, and learns, the values of
        fields named like credentials; outputs are scrubbed with ``fields=False`` so that
        they stay what a replay of the scrubbed exchanges produces.
        """
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = self._value(key) if isinstance(key, str) else key
                if (
                    fields
                    and isinstance(item, str)
                    and item
                    and isinstance(key, str)
                    and is_secret_field(key)
                ):
                    self.learn(item, key)
                    out[new_key] = placeholder(key)
                else:
                    out[new_key] = self.data(item, fields=fields)
            return out
        if isinstance(value, list | tuple):
            return [self.data(item, fields=fields) for item in value]
        if isinstance(value, str):
            return self._value(value)
        return value

    # -- pieces of an exchange -----------------------------------------------------------

    def body(self, body: bytes | str | None, content_type: str) -> bytes | None:
        if body is None:
            return None
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        if not raw:
            return raw
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self._binary(raw)
        kind = content_type.lower()
        if "json" in kind or text.lstrip()[:1] in ("{", "["):
            text = self._json_text(text)
        elif "x-www-form-urlencoded" in kind:
            text = self._form_text(text)
        return self.text(text).encode("utf-8")

    def _json_text(self, text: str) -> str:
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        scrubbed = self.data(parsed, fields=True)
        return text if scrubbed == parsed else json.dumps(scrubbed, ensure_ascii=False)

    def _form_text(self, text: str) -> str:
        pairs = parse_qsl(text, keep_blank_values=True)
        scrubbed = self._pairs(pairs, is_secret_field)
        return text if scrubbed == pairs else urlencode(scrubbed)

    def _pairs(
        self, pairs: list[tuple[str, str]], secret: Callable[[str], bool]
    ) -> list[tuple[str, str]]:
        out = []
        for name, value in pairs:
            if value and secret(name) and not _IS_PLACEHOLDER.fullmatch(value):
                self.learn(value, name)
                value = placeholder(name)
            else:
                value = self._exact.get(value, value)
            out.append((name, value))
        return out

    def _binary(self, raw: bytes) -> bytes:
        for secret in sorted(self._known, key=len, reverse=True):
            raw = raw.replace(secret.encode("utf-8"), self._known[secret].encode("utf-8"))
        return raw

    def uri(self, uri: str) -> str:
        """``uri`` without userinfo, secret query values as placeholders, known secrets replaced."""
        try:
            parts = urlsplit(uri)
        except ValueError:
            return self.text(uri)
        netloc = parts.netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            scrubbed = self._pairs(pairs, lambda name: _norm(name) in self.secret_query_names)
            if scrubbed != pairs:
                query = urlencode(scrubbed, quote_via=quote)
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def _secret_request_header(self, name: str) -> bool:
        lowered = name.lower()
        return lowered in self._request_headers or any(
            part in lowered for part in _REQUEST_HEADER_PARTS
        )

    # -- vcrpy hooks ---------------------------------------------------------------------

    def request(self, request: Any) -> Any:
        """vcrpy ``before_record_request``: gets a copy, returns it scrubbed."""
        request.uri = self.uri(str(request.uri))
        content_type = ""
        for name, value in list(request.headers.items()):
            if self._secret_request_header(name):
                request.headers[name] = REDACTED
                continue
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            if name.lower() == "content-type":
                content_type = text
            request.headers[name] = self._value(text)
        request.body = self.body(request.body, content_type)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy ``before_record_response``: gets a copy (a dict), returns it scrubbed."""
        headers: dict[str, list[str]] = {}
        content_type = ""
        for name, values in dict(response.get("headers") or {}).items():
            listed = values if isinstance(values, list) else [values]
            if name.lower() in self._response_headers:
                headers[name] = [REDACTED for _ in listed]
                continue
            headers[name] = [self._value(str(v)) for v in listed]
            if name.lower() == "content-type" and listed:
                content_type = str(listed[0])
        body = response.get("body") or {}
        scrubbed = self.body(body.get("string"), content_type)
        response["body"] = {**body, "string": scrubbed}
        for name in headers:
            if name.lower() == "content-length" and scrubbed is not None:
                headers[name] = [str(len(scrubbed))]
        response["headers"] = headers
        return response

    def interaction(self, request: Any, response: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """vcrpy ``before_save_interaction``: scrub again, now that every secret is known."""
        return self.request(request), self.response(response)
