"""A local imitation of an OAuth2 provider on 127.0.0.1, for the Connect tests.

It speaks the authorization-code flow as real providers do (RFC 6749, PKCE S256 per
RFC 7636, refresh-token rotation), with the knobs a test needs::

    with OAuthProvider(redirect_uris=["http://127.0.0.1:3003/oauth/callback"]) as idp:
        table = {"provider": "github", **idp.integration_overrides()}  # for nango.toml
        ...  # the browser opens idp.authorize_url?..., presses "Allow"
        assert idp.token_requests["authorization_code"] == 1

- ``GET /authorize``: a consent page (a form with "Allow" and "Deny" buttons); ``POST
  /authorize`` (the form) redirects (302) to the redirect URI with ``code`` and ``state``,
  or ``error=access_denied`` and ``state``. An unknown client or a redirect URI that is
  not registered gets a 400 page and no redirect. ``auto_consent`` skips the page.
- ``POST /token``: ``authorization_code`` (client by form fields or HTTP Basic, the same
  redirect URI, the PKCE verifier when a challenge was sent, codes used once) and
  ``refresh_token`` (each refresh issues a new refresh token and revokes the old one).
  ``failure`` makes it fail (``"server_error"``: 500, ``"invalid_grant"``: 400 JSON).
- ``GET /userinfo`` with ``Authorization: Bearer``: the user's id and email, or 401.

Time is ``time.time() + offset``: :meth:`advance` moves it on, to expire tokens without
waiting. Every token request is counted (``token_requests``, per grant type) and kept
(``token_forms``, with the client secret removed) so a test can say "refreshed once".
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from support.http_server import ServedInThread

__all__ = ["Client", "OAuthProvider"]

CODE_LIFETIME_S = 600
Failure = Literal["server_error", "invalid_grant"]


@dataclass
class Client:
    """A registered OAuth app."""

    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)


@dataclass
class _Grant:
    """What a consent granted: kept with its code, then with its tokens."""

    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    issued: float
    used: bool = False


@dataclass
class _Token:
    client_id: str
    scope: str
    expires: float
    revoked: bool = False


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main>
<h1>{title}</h1>
{body}
</main></body></html>
"""


class OAuthProvider:
    """The imitation; a context manager (or :meth:`start` / :meth:`stop`)."""

    def __init__(
        self,
        *,
        client_id: str = "imitation-client",
        client_secret: str = "imitation-secret",
        redirect_uris: Iterable[str] = (),
        expires_in: int = 3600,
        user: Mapping[str, str] | None = None,
        name: str = "Imitation",
    ) -> None:
        self.clients: dict[str, Client] = {}
        self.register(client_id, client_secret, redirect_uris)
        self.client_id, self.client_secret = client_id, client_secret
        self.expires_in = expires_in
        """Lifetime of the access tokens issued from now on, seconds."""
        self.user: dict[str, str] = dict(user or {"id": "user-1", "email": "ada@example.test"})
        self.name = name
        self.failure: Failure | None = None
        """Set to make every token request fail until reset to None."""
        self.auto_consent: Literal["allow", "deny"] | None = None
        """Set to answer ``GET /authorize`` with the redirect at once, without the page."""
        self.offset = 0.0
        self.token_requests: Counter[str] = Counter()
        self.token_forms: list[dict[str, str]] = []
        self.userinfo_requests = 0
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, str]] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._served: ServedInThread | None = None

    # -- set-up and inspection -------------------------------------------------------------

    def register(self, client_id: str, client_secret: str, redirect_uris: Iterable[str]) -> Client:
        client = Client(client_id, client_secret, set(redirect_uris))
        self.clients[client_id] = client
        return client

    def allow_redirect_uri(self, uri: str, client_id: str | None = None) -> None:
        self.clients[client_id or self.client_id].redirect_uris.add(uri)

    def advance(self, seconds: float) -> None:
        """Move the provider's clock on (tokens and codes expire by it)."""
        self.offset += seconds

    def now(self) -> float:
        return time.time() + self.offset

    @property
    def origin(self) -> str:
        if self._served is None:
            raise RuntimeError("OAuthProvider is not started")
        return self._served.origin

    @property
    def authorize_url(self) -> str:
        return self.origin + "/authorize"

    @property
    def token_url(self) -> str:
        return self.origin + "/token"

    @property
    def userinfo_url(self) -> str:
        return self.origin + "/userinfo"

    def integration_overrides(self) -> dict[str, Any]:
        """The ``[integrations.<id>]`` keys pointing an oauth2 integration at this server."""
        return {"token_url": self.token_url, "oauth": {"authorization_url": self.authorize_url}}

    def live_access_tokens(self) -> list[str]:
        now = self.now()
        with self._lock:
            return [t for t, v in self._access.items() if not v.revoked and v.expires > now]

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> OAuthProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                provider._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._served = ServedInThread(Handler, poll_interval=0.05)
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None

    def __enter__(self) -> OAuthProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests --------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in request.headers.items()}
        route = (request.command, split.path)
        if route == ("GET", "/authorize"):
            reply = self._authorize(query)
        elif route == ("POST", "/authorize"):
            reply = self._decide(_form(body, headers))
        elif route == ("POST", "/token"):
            reply = self._token(_form(body, headers), headers)
        elif route == ("GET", "/userinfo"):
            reply = self._userinfo(headers)
        else:
            reply = (404, {}, {"error": "not_found"})
        _send(request, *reply)

    def _authorize(self, query: dict[str, str]) -> _Reply:
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            return _page(400, "Unknown application", "No application has this client_id.")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _page(400, "Wrong redirect URI", "This redirect_uri is not registered.")
        state = query.get("state", "")
        if query.get("response_type") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", state=state)
        method = query.get("code_challenge_method", "plain")
        if query.get("code_challenge") and method != "S256":
            return _redirect(redirect_uri, error="invalid_request", state=state)
        request_id = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[request_id] = query
        if self.auto_consent is not None:
            return self._decide({"request_id": request_id, "decision": self.auto_consent})
        scopes = [s for s in query.get("scope", "").replace(",", " ").split() if s]
        asked = "".join(f"<li>{html.escape(s)}</li>" for s in scopes) or "<li>basic access</li>"
        body = (
            f"<p>{html.escape(client.client_id)} asks for access to your {html.escape(self.name)}"
            f" account ({html.escape(self.user['email'])}):</p>"
            f'<ul aria-label="Requested access">{asked}</ul>'
            '<form method="post" action="/authorize">'
            f'<input type="hidden" name="request_id" value="{request_id}">'
            '<button type="submit" name="decision" value="allow">Allow</button> '
            '<button type="submit" name="decision" value="deny">Deny</button>'
            "</form>"
        )
        return _page(200, f"Authorize {client.client_id}", body, raw=True)

    def _decide(self, form: dict[str, str]) -> _Reply:
        with self._lock:
            query = self._pending.pop(form.get("request_id", ""), None)
        if query is None:
            return _page(400, "Unknown request", "This consent request is unknown or was answered.")
        redirect_uri, state = query["redirect_uri"], query.get("state", "")
        if form.get("decision") != "allow":
            return _redirect(
                redirect_uri,
                error="access_denied",
                error_description="The user denied access.",
                state=state,
            )
        code = secrets.token_urlsafe(24)
        grant = _Grant(
            client_id=query["client_id"],
            redirect_uri=redirect_uri,
            scope=query.get("scope", ""),
            challenge=query.get("code_challenge") or None,
            issued=self.now(),
        )
        with self._lock:
            self._codes[code] = grant
        return _redirect(redirect_uri, code=code, state=state)

    def _token(self, form: dict[str, str], headers: dict[str, str]) -> _Reply:
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.token_requests[grant_type] += 1
            self.token_forms.append({k: v for k, v in form.items() if k != "client_secret"})
        if self.failure == "server_error":
            return 500, {}, {"error": "server_error"}
        if self.failure == "invalid_grant":
            return _error("invalid_grant", "The grant was refused (failure switch).")
        client, basic = self._client(form, headers)
        if client is None:
            status = 401 if basic else 400
            return _error("invalid_client", "Unknown client or wrong secret.", status)
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange(client, form)
            if grant_type == "refresh_token":
                return self._rotate(client, form)
        return _error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")

    def _client(self, form: dict[str, str], headers: dict[str, str]) -> tuple[Client | None, bool]:
        auth = headers.get("authorization", "")
        basic = auth.lower().startswith("basic ")
        if basic:
            try:
                pair = base64.b64decode(auth[6:].strip()).decode()
            except ValueError:
                return None, True
            client_id, _, secret = pair.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, secret):
            return None, basic
        return client, basic

    def _exchange(self, client: Client, form: dict[str, str]) -> _Reply:
        grant = self._codes.get(form.get("code", ""))
        if grant is None or grant.client_id != client.client_id:
            return _error("invalid_grant", "Unknown authorization code.")
        if grant.used:
            return _error("invalid_grant", "The authorization code was already used.")
        grant.used = True
        if self.now() - grant.issued > CODE_LIFETIME_S:
            return _error("invalid_grant", "The authorization code has expired.")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error("invalid_grant", "redirect_uri differs from the authorization request.")
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or not secrets.compare_digest(expected, grant.challenge):
                return _error("invalid_grant", "PKCE verification failed.")
        return self._issue(client.client_id, grant.scope)

    def _rotate(self, client: Client, form: dict[str, str]) -> _Reply:
        old = self._refresh.get(form.get("refresh_token", ""))
        if old is None or old.revoked or old.client_id != client.client_id:
            return _error("invalid_grant", "Unknown or revoked refresh token.")
        old.revoked = True
        return self._issue(client.client_id, old.scope)

    def _issue(self, client_id: str, scope: str) -> _Reply:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        now = self.now()
        self._access[access] = _Token(client_id, scope, now + self.expires_in)
        self._refresh[refresh] = _Token(client_id, scope, float("inf"))
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": scope,
        }
        return 200, {"Cache-Control": "no-store"}, body

    def _userinfo(self, headers: dict[str, str]) -> _Reply:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self._lock:
            self.userinfo_requests += 1
            known = self._access.get(token)
        if known is None or known.revoked or known.expires <= self.now():
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return 401, challenge, {"error": "invalid_token"}
        return 200, {}, dict(self.user)


# -- wire helpers ---------------------------------------------------------------------------

_Reply = tuple[int, dict[str, str], Any]


def _form(body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    if headers.get("content-type", "").startswith("application/json"):
        data = json.loads(body or b"{}")
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _error(error: str, description: str, status: int = 400) -> _Reply:
    return status, {"Cache-Control": "no-store"}, {"error": error, "error_description": description}


def _redirect(uri: str, **params: str) -> _Reply:
    split = urlsplit(uri)
    query = "&".join(filter(None, [split.query, urlencode(params)]))
    return 302, {"Location": urlunsplit(split._replace(query=query))}, None


def _page(status: int, title: str, body: str, *, raw: bool = False) -> _Reply:
    text = body if raw else f"<p>{html.escape(body)}</p>"
    page = _PAGE.format(title=html.escape(title), body=text)
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


def _send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: Any) -> None:
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **headers}
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
