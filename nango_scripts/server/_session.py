"""Sessions of the Activity page: the secret key, typed once into a login form, becomes
a signed cookie; the key itself is never put in the cookie.

A session token is ``<issued unix time>.<random nonce>.<HMAC>``, the HMAC keyed with a
key derived from the secret key: tokens need no storage, they end after ``max_age_s``,
and all of them end when the secret key changes. Logging out revokes the token in this
process; a restart forgets revocations, so the age limit is what bounds a copied token.

Each session has a CSRF token (an HMAC of its nonce) that the page's forms send back;
with the ``SameSite=Lax`` cookie (never sent on another site's POST) it keeps other sites
from posting in the user's name.
Everything here is pure and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["COOKIE_NAME", "PageSession", "PageSessions"]

COOKIE_NAME: Final = "nango_scripts_session"
_PURPOSE: Final = b"nango-scripts activity page session v1"


@dataclass(frozen=True)
class PageSession:
    nonce: str
    issued_at: int
    csrf: str
    """The token the page's forms carry back (a hidden field)."""


class PageSessions:
    def __init__(
        self,
        secret_key: str,
        *,
        max_age_s: int = 12 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret_key.encode()
        self._key = hmac.new(self._secret, _PURPOSE, hashlib.sha256).digest()
        self.max_age_s = max_age_s
        self._clock = clock
        self._revoked: dict[str, int] = {}
        """nonce -> issued_at, until the token would have expired anyway."""

    def key_matches(self, given: str) -> bool:
        """Whether ``given`` is the secret key (constant time)."""
        return hmac.compare_digest(given.encode(), self._secret)

    def _mac(self, purpose: str, payload: str) -> str:
        return hmac.new(self._key, f"{purpose}|{payload}".encode(), hashlib.sha256).hexdigest()

    def issue(self) -> str:
        """A new session token, to put in the cookie."""
        payload = f"{int(self._clock())}.{secrets.token_urlsafe(18)}"
        return f"{payload}.{self._mac('session', payload)}"

    def check(self, token: str | None) -> PageSession | None:
        """The session of a valid, unexpired, unrevoked token; None otherwise."""
        # A cookie is whatever the client sent: bytes other than ASCII (which
        # compare_digest refuses in a str), digits int() refuses ("²"), any count of parts.
        if not token or len(token) > 200 or not token.isascii():
            return None
        parts = token.split(".")
        if len(parts) != 3 or not (parts[0].isdigit() and len(parts[0]) <= 12):
            return None
        issued_text, nonce, mac = parts
        expected = self._mac("session", f"{issued_text}.{nonce}")
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        issued = int(issued_text)
        now = self._clock()
        if not issued - 60 <= now < issued + self.max_age_s or nonce in self._revoked:
            return None
        return PageSession(nonce=nonce, issued_at=issued, csrf=self._mac("csrf", nonce))

    def csrf_ok(self, session: PageSession, given: str | None) -> bool:
        """Whether ``given`` (a form field: any text) is the session's CSRF token."""
        if given is None or not given.isascii():  # the token is hex: no other can match
            return False
        return hmac.compare_digest(given.encode(), session.csrf.encode())

    def revoke(self, session: PageSession) -> None:
        """Log out: this token is refused from now on (in this process)."""
        now = self._clock()
        for nonce, issued in list(self._revoked.items()):
            if issued + self.max_age_s <= now:
                del self._revoked[nonce]
        self._revoked[session.nonce] = session.issued_at
