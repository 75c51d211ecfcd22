"""Generated endpoints: the method and path at which a sync's records are read or an
action is triggered, as Nango declares them (``{"method", "path", "group"}``).

- A sync is read with ``GET``; its default endpoint is ``GET /<sync name>``.
- An action takes any method; its default endpoint is ``POST /<action name>``.
- A default endpoint that a built-in route would shadow is left out (the script is
  still served by ``/records`` and ``/action/trigger``); a declared one is refused.
- A path is ``/`` and segments of letters, digits, ``-``, ``_``, ``.`` and ``~``;
  it never falls under the built-in API (:data:`BUILT_IN_PREFIXES`), whose routes
  always win.
- Two scripts of one integration cannot claim the same method and path
  (:func:`endpoint_clashes`); integrations are told apart by ``Provider-Config-Key``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nango_scripts.errors import ProjectError

__all__ = [
    "BUILT_IN_PREFIXES",
    "ENDPOINT_FIX",
    "METHODS",
    "Endpoint",
    "built_in_clash",
    "check_endpoints",
    "default_endpoint",
    "endpoint_clashes",
    "parse_endpoint",
]

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
METHODS: tuple[Method, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")

BUILT_IN_PREFIXES: tuple[str, ...] = (
    "/",  # the Activity page itself (exactly "/")
    "/action",
    "/activity",
    "/assets",
    "/connection",
    "/connections",
    "/docs",
    "/environment-variables",
    "/favicon.ico",
    "/health",
    "/integrations",
    "/login",
    "/logout",
    "/logs",
    "/openapi.json",
    "/proxy",
    "/records",
    "/redoc",
    "/scripts",
    "/scripts-view",
    "/sync",
    "/templates",
)
"""Paths of the built-in API and pages: a generated endpoint equal to one of them, or
below one (``/records/x``), would be shadowed; it is refused. A test of the server
checks that every route it has is covered here."""

ENDPOINT_FIX = {
    "sync": "Write it as endpoints=[{'method': 'GET', 'path': '/issues'}].",
    "action": "Write it as endpoint={'method': 'POST', 'path': '/issues'}.",
}

_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
_MAX_PATH = 200


@dataclass(frozen=True, order=True)
class Endpoint:
    method: Method
    path: str
    group: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        """Nango's shape in ``/scripts/config``."""
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.group is not None:
            out["group"] = self.group
        return out


def parse_endpoint(value: object, kind: str) -> Endpoint:
    """An ``Endpoint``, a ``{"method", "path", "group"?}`` mapping or ``"GET /path"``;
    raises ``ValueError`` saying what is wrong (the decorator adds where)."""
    method: object
    path: object
    group: object
    if isinstance(value, Endpoint):
        method, path, group = value.method, value.path, value.group
    elif isinstance(value, str):
        method, _, path = value.strip().partition(" ")
        group = None
    elif isinstance(value, dict):
        unknown = set(value) - {"method", "path", "group"}
        if unknown:
            raise ValueError(f"unknown endpoint keys {sorted(unknown)} (method, path, group)")
        method, path, group = value.get("method"), value.get("path"), value.get("group")
    else:
        raise ValueError(
            f"an endpoint is {{'method': ..., 'path': ..., 'group': ...}} or 'GET /path', "
            f"not {type(value).__name__}"
        )
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    upper: Method = method.upper()  # type: ignore[assignment]
    if not isinstance(path, str) or len(path) > _MAX_PATH or not _PATH.match(path):
        raise ValueError(
            f"path {path!r} is not a path such as /issues: '/' and segments of letters, "
            f"digits, '-', '_', '.' or '~' (at most {_MAX_PATH} characters)"
        )
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise ValueError("group, when given, is a non-empty string")
    if kind == "sync" and upper != "GET":
        raise ValueError(f"a sync's records are read with GET, not {upper}")
    clash = built_in_clash(path)
    if clash is not None:
        raise ValueError(
            f"{upper} {path} would be shadowed by the built-in {clash} "
            "(the service's own API always wins): choose another path"
        )
    return Endpoint(upper, path, group)


def built_in_clash(path: str) -> str | None:
    """The built-in path that ``path`` equals or falls under, or None."""
    for prefix in BUILT_IN_PREFIXES:
        if prefix == "/":
            if path == "/":
                return "/"
            continue
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


def default_endpoint(kind: str, name: str) -> Endpoint:
    safe = re.sub(r"[^A-Za-z0-9._~-]", "-", name)
    return Endpoint("GET" if kind == "sync" else "POST", f"/{safe}")


def endpoint_clashes(scripts: Iterable[Any]) -> tuple[list[Any], list[ProjectError]]:
    """Two scripts of one integration with the same method and path: the first keeps it,
    the other is left out with an error naming both. Returns (kept, errors)."""
    seen: dict[tuple[str | None, str, str], Any] = {}
    kept: list[Any] = []
    errors: list[ProjectError] = []
    for spec in scripts:
        clash = None
        for endpoint in _endpoints_of(spec):
            first = seen.get((spec.integration, endpoint.method, endpoint.path))
            if first is not None:
                clash = (endpoint, first)
                break
        if clash is None:
            for endpoint in _endpoints_of(spec):
                seen[(spec.integration, endpoint.method, endpoint.path)] = spec
            kept.append(spec)
            continue
        endpoint, first = clash
        errors.append(
            ProjectError(
                f"{endpoint} is claimed by two scripts of integration {spec.integration}: "
                f'{first.kind} "{first.name}" and {spec.kind} "{spec.name}" (left out).',
                hint="Give one of them another path with endpoints=[...] (syncs) or "
                "endpoint=... (actions).",
            )
        )
    return kept, errors


def _endpoints_of(spec: Any) -> Sequence[Endpoint]:
    endpoints: Sequence[Endpoint] = getattr(spec, "endpoints", ())
    return endpoints


def check_endpoints(value: object, kind: str, name: str) -> tuple[Endpoint, ...]:
    """The endpoints a decorator was given (None: the default one); ``ValueError`` when
    one is wrong or two are the same."""
    if value is None:
        # A default that the built-in API would shadow (a sync named "records") is left
        # out rather than refused: the records stay readable at /records.
        default = default_endpoint(kind, name)
        return () if built_in_clash(default.path) else (default,)
    items: list[object] | tuple[object, ...]
    if kind == "action":
        items = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ValueError(
            "endpoints is a list, e.g. endpoints=[{'method': 'GET', 'path': '/issues'}]"
        )
    parsed = tuple(parse_endpoint(item, kind) for item in items)
    if not parsed:
        raise ValueError("endpoints is empty: leave it out for the default GET /<name>")
    if len({(e.method, e.path) for e in parsed}) != len(parsed):
        raise ValueError("the same method and path is declared twice")
    return parsed
