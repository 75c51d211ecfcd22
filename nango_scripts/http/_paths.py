"""Reading a value out of a JSON body by a path, the way lodash ``get`` does.

Nango's pagination configs name places in a response with lodash paths
(``data.items``, ``paging.next.after``, ``@odata.nextLink``, ``results[0].id``), so
users moving from Nango expect the same reading here. Paths are parsed once per
paginator (:func:`parse_path`), then read per page (:func:`get_path`).
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["MISSING", "get_path", "parse_path"]


class _Missing:
    """The path leads nowhere (distinct from a JSON ``null`` found there)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

_BRACKET = re.compile(r"\[(\d+)\]")


def parse_path(path: str) -> tuple[str, tuple[str, ...]]:
    """``(whole, segments)``: the raw path, and it split on dots with ``[n]`` as a segment."""
    return path, tuple(_BRACKET.sub(r".\1", path).strip(".").split("."))


def _lookup(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key, MISSING)
    if isinstance(value, list) and key.isdigit():
        index = int(key)
        return value[index] if index < len(value) else MISSING
    return MISSING


def _walk(value: Any, segments: tuple[str, ...]) -> Any:
    if not segments:
        return value
    # A key may itself contain dots ("@odata.nextLink"): try the longest joined key
    # first, so "a.@odata.nextLink" finds {"a": {"@odata.nextLink": ...}}.
    for cut in range(len(segments), 0, -1):
        found = _lookup(value, ".".join(segments[:cut]))
        if found is not MISSING:
            result = _walk(found, segments[cut:])
            if result is not MISSING:
                return result
    return MISSING


def get_path(value: Any, path: tuple[str, tuple[str, ...]] | str) -> Any:
    """The value at ``path`` in ``value``, or :data:`MISSING`. The whole path is tried as one key first."""
    whole, segments = parse_path(path) if isinstance(path, str) else path
    if isinstance(value, dict) and whole in value:
        return value[whole]
    return _walk(value, segments)
