"""Parsing the RFC 8288 ``Link`` header (``<url>; rel="next", <url2>; rel="last"``).

Written as a small scanner rather than a split on commas, because URLs inside ``<>`` and
quoted parameter values may both contain commas and semicolons.
"""

from __future__ import annotations

__all__ = ["find_link", "parse_link_header"]


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _read_param(text: str, i: int) -> tuple[str, str, int]:
    """One ``name[=value]`` starting at ``i``; returns name, value and the index after it."""
    start = i
    while i < len(text) and text[i] not in "=;,":
        i += 1
    name = text[start:i].strip().lower()
    value = ""
    if i < len(text) and text[i] == "=":
        i = _skip_ws(text, i + 1)
        if i < len(text) and text[i] == '"':
            i += 1
            chars = []
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                chars.append(text[i])
                i += 1
            value = "".join(chars)
            i += 1  # closing quote
        else:
            start = i
            while i < len(text) and text[i] not in ";,":
                i += 1
            value = text[start:i].strip()
    return name, value, i


def parse_link_header(value: str) -> list[tuple[str, frozenset[str]]]:
    """Every link of the header as ``(url, rels)``; rels lower-cased (``rel="next last"`` gives two)."""
    links: list[tuple[str, frozenset[str]]] = []
    i = 0
    while True:
        i = value.find("<", i)
        if i < 0:
            return links
        end = value.find(">", i + 1)
        if end < 0:
            return links
        url = value[i + 1 : end].strip()
        i = end + 1
        rels: set[str] = set()
        while True:
            i = _skip_ws(value, i)
            if i >= len(value) or value[i] in ",<":
                break
            if value[i] != ";":  # junk between links: skip to the next separator
                i += 1
                continue
            name, param, i = _read_param(value, i + 1)
            if name == "rel":
                rels.update(param.lower().split())
        links.append((url, frozenset(rels)))


def find_link(value: str | None, rel: str) -> str | None:
    """The URL of the first link with relation ``rel`` in a ``Link`` header value, if any."""
    if not value:
        return None
    wanted = rel.lower()
    for url, rels in parse_link_header(value):
        if wanted in rels:
            return url
    return None
