"""Which recorded request answers a replayed one: method, path, sorted query and body.

Not the host: a recording made against a local copy of the API (or through
``NANGO_INTEGRATION_<ID>_BASE_URL``) replays wherever ``base_url`` points, and absolute
next-page links keep working. Query parameters are compared as sorted pairs without the
secret ones (their values are placeholders anyway); JSON bodies are compared parsed, form
bodies as sorted pairs. Matchers follow vcrpy's protocol: raise ``AssertionError`` with
a readable message when two requests differ. Pure code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["body_key", "make_matchers", "query_key"]

Matcher = Callable[[Any, Any], None]


def query_key(uri: str, ignored: frozenset[str]) -> list[tuple[str, str]]:
    """The query of ``uri`` as sorted pairs, without the parameters named in ``ignored``."""
    pairs = parse_qsl(urlsplit(uri).query, keep_blank_values=True)
    return sorted(
        (name, value)
        for name, value in pairs
        if name.strip().lower().replace("-", "_") not in ignored
    )


def _header(headers: Any, name: str) -> str:
    try:
        value = headers.get(name) or ""
    except AttributeError:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return bytes(body.read())
    return bytes(body)


def body_key(body: Any, content_type: str) -> tuple[str, Any]:
    """A body in a comparable form: parsed JSON, sorted form pairs, or bytes."""
    raw = _body_bytes(body)
    if not raw:
        return ("empty", None)
    kind = content_type.lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ("bytes", raw)
    if "json" in kind or text.lstrip()[:1] in ("{", "["):
        try:
            return ("json", json.loads(text))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in kind:
        return ("form", sorted(parse_qsl(text, keep_blank_values=True)))
    return ("text", text)


def _show(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "..."


def make_matchers(ignored_query: frozenset[str]) -> tuple[Matcher, Matcher]:
    """vcrpy matchers named ``query`` and ``body`` (vcrpy shows the names in its reports)."""

    def query(new: Any, recorded: Any) -> None:
        mine = query_key(str(new.uri), ignored_query)
        theirs = query_key(str(recorded.uri), ignored_query)
        if mine != theirs:
            raise AssertionError(f"{_show(dict(mine))} here, {_show(dict(theirs))} recorded")

    def body(new: Any, recorded: Any) -> None:
        mine = body_key(new.body, _header(new.headers, "content-type"))
        theirs = body_key(recorded.body, _header(recorded.headers, "content-type"))
        if mine != theirs:
            raise AssertionError(f"{_show(mine[1])} here, {_show(theirs[1])} recorded")

    return query, body
