"""Where a request may go, and which requests may carry the connection's credentials.

Pure rules, applied by :class:`~nango_scripts.http.ApiClient` before anything is sent:

- a relative endpoint stays under the base URL: its dot segments (``..``, ``%2e%2e``,
  and ``..`` hidden behind an encoded slash or a backslash) may not climb above the base
  URL's path, whatever the server at the other end decodes;
- a URL must be one httpx can send: http(s), a host, a port in 1..65535, at most
  :data:`MAX_URL_LENGTH` characters;
- the credentials go only to the host of the base URL in use (the integration's, or the
  override given for that call) and its subdomains, on any port, and never from https
  down to plain http. Any other URL (an absolute URL a script was given, a next link, a
  redirect) is requested without them.
- header values HTTP cannot carry (control characters, characters beyond Latin-1) are
  refused by name, never quoted: they may be credentials.

The client applies the credentials rule to each redirect hop too (:func:`check_hop`, an
httpx request hook): httpx itself only drops ``Authorization`` when leaving the origin,
not an API key in a header of another name.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from nango_scripts.http._urls import is_absolute, join_url

__all__ = [
    "FRAMING_HEADERS",
    "GUARD",
    "MAX_URL_LENGTH",
    "BadRedirect",
    "CredentialGuard",
    "CredentialScope",
    "UnsafeTarget",
    "api_url",
    "check_hop",
    "header_value",
    "merge_headers",
    "parse_target",
]

MAX_URL_LENGTH = 65_536
"""httpx's own limit, checked first so that the error says so."""

FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host"})
"""Set by the client from the URL and the body; a caller's value is ignored."""

_SEPARATORS = re.compile(r"[/\\]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class UnsafeTarget(ValueError):
    """A URL or header that must not be sent; the message never quotes a value."""


def _climbs_above_base(path: str) -> bool:
    depth = 0
    for segment in path.split("/"):
        # What a lenient server may read: %2e%2e, %2f and backslashes decoded.
        for piece in _SEPARATORS.split(unquote(segment)):
            if piece == "..":
                depth -= 1
                if depth < 0:
                    return True
            elif piece not in ("", "."):
                depth += 1
    return False


def api_url(base_url: str, endpoint: str) -> str:
    """``endpoint`` joined to ``base_url`` (see ``join_url``); an absolute URL is kept.

    A relative endpoint whose dot segments climb above the base URL's path raises
    :class:`UnsafeTarget`.
    """
    if is_absolute(endpoint):
        return endpoint
    path = endpoint.split("?", 1)[0].split("#", 1)[0]
    if _climbs_above_base(path):
        raise UnsafeTarget(
            "the endpoint's '..' segments climb above the base URL's path; an endpoint "
            "is relative to the base URL and stays under it"
        )
    return join_url(base_url, endpoint)


def parse_target(url: str) -> httpx.URL:
    """``url`` as an httpx URL, or :class:`UnsafeTarget` saying what is wrong with it.

    Cached: a paginated sync sends every page to the same URL string (its params apart),
    and httpx's URL parser is pure Python."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(
            f"the URL is {len(url):,} characters long; at most {MAX_URL_LENGTH:,} are allowed"
        )
    return _parsed_target(url)


@functools.lru_cache(maxsize=512)
def _parsed_target(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        # httpx's messages name the part (a port, a character and its position), not the URL.
        raise UnsafeTarget(f"the URL is not valid: {exc}") from None
    check_target(parsed)
    return parsed


def check_target(parsed: httpx.URL) -> None:
    """:class:`UnsafeTarget` if ``parsed`` is not a URL a request may go to."""
    if len(parsed.raw_path) + len(parsed.raw_host) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"the URL is longer than {MAX_URL_LENGTH:,} characters")
    if parsed.scheme not in ("http", "https"):
        raise UnsafeTarget("the URL must start with http:// or https://")
    if not parsed.raw_host:
        raise UnsafeTarget("the URL has no host")
    if parsed.port is not None and not 0 < parsed.port < 65_536:
        raise UnsafeTarget(f"the URL's port {parsed.port} is not in 1..65535")


def _host(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii", "replace").lower().rstrip(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CredentialScope:
    """The URLs one call may send the connection's credentials to (see the module doc)."""

    host: str
    https: bool

    @classmethod
    def of(cls, base_url: str) -> CredentialScope:
        """The scope of a base URL; :class:`UnsafeTarget` if it is not a usable URL."""
        base = parse_target(base_url)
        return cls(_host(base), base.scheme == "https")

    def allows(self, url: httpx.URL) -> bool:
        if self.https and url.scheme != "https":
            return False
        host = _host(url)
        if host == self.host:
            return True
        return not _is_ip(self.host) and host.endswith("." + self.host)

    def describe(self) -> str:
        if _is_ip(self.host):
            return self.host
        return f"{self.host} (or a subdomain of it)"


def header_value(name: str, value: str | bytes) -> bytes:
    """A header as HTTP/1.1 carries it: Latin-1 bytes without surrounding blanks.

    :class:`UnsafeTarget` names the header, never its value (it may be a credential).
    """
    if not _TOKEN.fullmatch(name):
        raise UnsafeTarget(f"the header name {name[:100]!r} is not a valid HTTP header name")
    if isinstance(value, str):
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raise UnsafeTarget(
                f"the value of header {name} holds a character beyond Latin-1, which HTTP "
                "headers cannot carry"
            ) from None
    else:
        raw = bytes(value)
    raw = raw.strip(b" \t")
    if _FORBIDDEN_IN_VALUE.search(raw.decode("latin-1")):
        raise UnsafeTarget(
            f"the value of header {name} holds a control character (a line break, NUL...), "
            "which HTTP headers cannot carry"
        )
    return raw


def merge_headers(*sources: Mapping[str, Any] | None) -> list[tuple[bytes, bytes]]:
    """The headers of ``sources`` merged (a later source wins, case-insensitively), each
    checked by :func:`header_value`; :data:`FRAMING_HEADERS` are left to httpx, and a
    ``None`` value leaves the header out (as in ``requests``)."""
    merged: dict[str, tuple[bytes, bytes]] = {}
    for source in sources:
        for name, value in (source or {}).items():
            key = str(name).lower()
            if key in FRAMING_HEADERS or value is None:
                continue
            raw = header_value(str(name), value if isinstance(value, bytes) else str(value))
            merged[key] = (str(name).encode("latin-1"), raw)
    return list(merged.values())


GUARD = "nango_scripts.credentials"
"""The request extension holding the request's :class:`CredentialGuard`."""
READ_AHEAD = "nango_scripts.read_ahead"
"""A request extension: this request reads a page before the script asked for it."""


class CredentialGuard:
    """A request's credentials: ``attached`` (under the names ``names``) or not, and the
    ``scope`` they may go to (None for token requests); a hop outside it loses them."""

    __slots__ = ("attached", "names", "scope")

    def __init__(
        self,
        scope: CredentialScope | None = None,
        names: Iterable[str] = (),
        *,
        attached: bool = False,
    ) -> None:
        self.scope = scope
        self.attached = attached
        self.names = frozenset(name.lower() for name in names)


class BadRedirect(Exception):
    """The API redirected to a URL that cannot be requested."""


async def check_hop(request: httpx.Request) -> None:
    """httpx ``request`` hook, run for every hop: a hop outside the scope loses the credentials."""
    guard = request.extensions.get(GUARD)
    if not isinstance(guard, CredentialGuard):
        return
    try:
        check_target(request.url)  # parsed by httpx already: checked, not parsed again
    except UnsafeTarget as exc:
        raise BadRedirect(f"a URL that cannot be requested: {exc}") from None
    if guard.attached and guard.scope is not None and not guard.scope.allows(request.url):
        for name in guard.names:
            if name in request.headers:
                del request.headers[name]
