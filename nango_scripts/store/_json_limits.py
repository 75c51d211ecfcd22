"""Limits of the JSON values the service accepts and keeps: pure functions, no I/O.

Every reader of a stored value must be able to read it back: pydantic's serializer stops
at about 255 levels, ``json`` at about 1000, and a string holding half of a UTF-16
surrogate pair cannot be written as UTF-8 at all. So a value is refused when it is taken
in (the server's door, the connection store, an action's output), not when it is read:

- nesting: at most :data:`MAX_JSON_DEPTH` levels of objects and arrays;
- size: stored metadata and credentials at most :data:`MAX_STORED_JSON_BYTES` of JSON
  each (a request body has the server's own limit);
- text: no lone surrogate (``"\\ud800"``) in any key or string; where the string may be
  an identifier (a request body), no NUL either, which PostgreSQL cannot store in text.

:func:`read_stored_json` is the readers' side: a value stored before these limits (or
altered in the database) that no reader could serve (:data:`READABLE_JSON_DEPTH`, text)
is read as ``None`` rather than failing every reader of the table.
"""

from __future__ import annotations

import json
from typing import Any, Final

from nango_scripts.errors import LimitError

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_STORED_JSON_BYTES",
    "READABLE_JSON_DEPTH",
    "check_stored_json",
    "json_body_problem",
    "json_value_problem",
    "read_stored_json",
    "size_text",
]

MAX_JSON_DEPTH: Final = 64
"""Levels of nested objects and arrays in a JSON value (``{}`` is one, ``{"a": []}`` two)."""

MAX_STORED_JSON_BYTES: Final = 1024 * 1024
"""Connection metadata, and credentials, as compact UTF-8 JSON (each)."""

READABLE_JSON_DEPTH: Final = 200
"""What every reader serves (pydantic's serializer stops near 255, with room for the
levels an answer wraps around a value): the depth up to which a stored value stored
before :data:`MAX_JSON_DEPTH` existed is still read as it is."""

_CONTAINERS = (dict, list, tuple)


def size_text(size: int) -> str:
    """``10 MiB``, ``512 KiB`` or ``100 bytes``: a limit as a person reads it."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def _string_problem(text: str, *, nul: bool) -> str | None:
    if nul and "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # the text may be a secret: never quoted, even in part
            return (
                "contains a lone surrogate (half of a UTF-16 pair, \\ud800-\\udfff), which"
                " is not Unicode text: send both halves of the pair, or the character itself"
            )
    return None


def json_value_problem(
    value: Any, *, max_depth: int = MAX_JSON_DEPTH, nul: bool = False
) -> str | None:
    """Why ``value`` (decoded JSON) breaks the limits, or ``None``.

    The answer completes a sentence that names the value: "metadata " + problem.
    Checks nesting depth and every key and string (lone surrogates; NUL when ``nul``).
    Iterative, level by level: the value may be deeper than Python's recursion limit.
    """
    if isinstance(value, str):
        return _string_problem(value, nul=nul)
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return f"nests deeper than {max_depth} levels of objects and arrays"
        below: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                for key in item:
                    if isinstance(key, str) and not _plain(key, nul):
                        problem = _string_problem(key, nul=nul)
                        if problem is not None:
                            return problem
                children: Any = item.values()
            else:
                children = item
            for child in children:
                if isinstance(child, str):
                    if not _plain(child, nul):
                        problem = _string_problem(child, nul=nul)
                        if problem is not None:
                            return problem
                elif isinstance(child, _CONTAINERS):
                    below.append(child)
        level = below
    return None


def _plain(text: str, nul: bool) -> bool:
    """The common case, decided cheaply: ASCII without NUL (when NUL counts)."""
    return text.isascii() and not (nul and "\x00" in text)


def json_body_problem(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a JSON request body breaks the limits, or ``None`` (also when it is not JSON at
    all: the route's own parsing says so). NUL is refused in every string, since any of
    them may be an id that reaches the database.

    Most bodies are decided without a walk: one with fewer brackets than ``max_depth``
    cannot nest deeper, and one without ``\\u`` escapes, 0xED bytes (the UTF-8 lead byte
    of the surrogate range) or a byte 0 near its start (UTF-16/32) holds no lone
    surrogate or NUL.
    """
    deep = body.count(b"[") + body.count(b"{") > max_depth
    odd_text = b"\\u" in body or b"\xed" in body or b"\x00" in body[:4]
    if not deep and not odd_text:
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        return f"nests deeper than {max_depth} levels of objects and arrays"
    except ValueError:  # not JSON (or not UTF-8/16/32): the route's validation answers
        return None
    return json_value_problem(value, max_depth=max_depth, nul=True)


def read_stored_json(text: str | bytes, *, max_depth: int = READABLE_JSON_DEPTH) -> Any:
    """A stored JSON value, or ``None`` when it cannot be read back within the limits
    (too deep for the readers, a lone surrogate): the caller logs it and goes on."""
    try:
        value = json.loads(text)
    except (RecursionError, ValueError):
        return None
    if json_value_problem(value, max_depth=max_depth) is not None:
        return None
    return value


def check_stored_json(what: str, value: Any, *, max_bytes: int = MAX_STORED_JSON_BYTES) -> str:
    """``value`` as compact JSON for the database, or :class:`LimitError` naming ``what``
    and the limit it breaks (depth, size, a lone surrogate). Values are never quoted."""
    problem = json_value_problem(value)
    if problem is not None:
        raise LimitError(f"The {what} {problem}.")
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LimitError(f"The {what} must be JSON-serializable: {exc}.") from None
    size = len(text.encode())
    if size > max_bytes:
        raise LimitError(
            f"The {what} is {size} bytes of JSON, over the limit of {size_text(max_bytes)}."
        )
    return text
