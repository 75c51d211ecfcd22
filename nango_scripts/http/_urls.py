"""URL helpers: joining an endpoint to a base URL, and scrubbing secrets out of URLs.

``scrub_url`` exists because URLs end up in logs, error messages and the activity log,
and some APIs take their key in the query string.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_plus, urlsplit, urlunsplit

__all__ = ["MASK", "is_absolute", "is_secret_name", "join_url", "scrub_url"]

MASK = "***"

# Parameter names (lower-cased, "-" read as "_") whose values are always masked.
_SECRET_NAMES = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "secret",
        "password",
        "pass",
        "passwd",
        "signature",
        "sig",
        "auth",
        "code",
        "sid",
    }
)
# ... and any name containing one of these: the rule for every name, a query parameter's,
# a header's or a logged field's (``is_secret_name``), whoever sent it.
_SECRET_PARTS = (
    "token",
    "secret",
    "passw",
    "api_key",
    "apikey",
    "signature",
    "authorization",
    "cookie",
    "credential",
    "private_key",
    "privatekey",
    "hmac",
    "session",
    "jwt",
)


def is_absolute(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))  # schemes ignore case


def join_url(base_url: str, endpoint: str) -> str:
    """``base_url`` + ``endpoint`` with exactly one slash between; absolute endpoints win.

    This is concatenation, not RFC 3986 resolution: ``/issues`` on
    ``https://x.com/v1`` must give ``https://x.com/v1/issues``, as Nango's proxy does.
    """
    if is_absolute(endpoint):
        return endpoint
    if not endpoint:
        return base_url
    if endpoint.startswith("?"):
        return base_url.rstrip("/") + endpoint
    return base_url.rstrip("/") + "/" + endpoint.lstrip("/")


def is_secret_name(name: str) -> bool:
    """A header, field or parameter named like a secret (``X-Api-Key``, ``session_id``,
    ``refresh_token``...): its value is masked wherever it is shown."""
    norm = name.strip().lower().replace("-", "_")
    return any(part in norm for part in _SECRET_PARTS)


def _is_secret(name: str, extra: frozenset[str]) -> bool:
    norm = unquote_plus(name).strip().lower().replace("-", "_")
    return norm in _SECRET_NAMES or norm in extra or is_secret_name(norm)


def scrub_url(url: str, secret_params: Iterable[str] = ()) -> str:
    """``url`` without userinfo and with the values of secret-looking query params masked.

    ``secret_params`` adds names to mask (e.g. the provider's ``api_key_query``). The rest
    of the URL is kept byte for byte, so a scrubbed URL still reads like the original.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        extra = frozenset(p.lower().replace("-", "_") for p in secret_params if p)
        pieces = []
        for piece in query.split("&"):
            name, sep, value = piece.partition("=")
            if sep and value and _is_secret(name, extra):
                piece = f"{name}={MASK}"
            pieces.append(piece)
        query = "&".join(pieces)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
