"""Logging in to the Activity page with the secret key, and out again.

``POST /login`` takes the key from a form (compared in constant time) and sets an
HTTP-only, ``SameSite=Lax`` session cookie (:mod:`._session`); a wrong key gets the
form again with an error and no cookie; wrong keys count against the client as on the
API (:mod:`._login_limit`): a limited client gets 429 with ``Retry-After``, its key not
compared. ``POST /logout`` (with the session's CSRF token) ends the session. Every other
page shows the login form while there is no session.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from nango_scripts.server._login_limit import LoginLimiter, client_key, too_many_attempts_message
from nango_scripts.server._page_render import PAGE_HEADERS, render
from nango_scripts.server._session import COOKIE_NAME, PageSession, PageSessions

__all__ = [
    "FormError",
    "current_session",
    "login_page",
    "read_form",
    "redirect",
    "router",
    "sessions_of",
]

router = APIRouter(include_in_schema=False)
_MAX_FORM_BYTES: Final = 16 * 1024


class FormError(Exception):
    """A form the page did not send: too big, wrong type, or a bad CSRF token."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def sessions_of(request: Request) -> PageSessions:
    sessions: PageSessions = request.app.state.page_sessions
    return sessions


def current_session(request: Request) -> PageSession | None:
    return sessions_of(request).check(request.cookies.get(COOKIE_NAME))


def _local_path(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 for c in target)
    ):
        return "/"
    return target


def login_page(
    request: Request,
    *,
    error: str | None = None,
    status_code: int = 200,
    next_path: str | None = None,
) -> Response:
    """The form; after logging in, the user lands on ``next_path`` (else this page)."""
    if next_path is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        next_path = here if request.method == "GET" and request.url.path != "/login" else "/"
    return render("login.html.j2", status_code, error=error, next=_local_path(next_path))


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(_local_path(to), status_code=303, headers=PAGE_HEADERS)


async def read_form(request: Request, session: PageSession | None) -> dict[str, str]:
    """The fields of an urlencoded form; with a session, its CSRF token must be there."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError(415, "The page sends forms as application/x-www-form-urlencoded.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            raise FormError(413, "The form is too large.")
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "The form cannot be read.") from None
    fields = {name: values[-1] for name, values in parsed.items()}
    if session is not None and not sessions_of(request).csrf_ok(session, fields.get("csrf")):
        raise FormError(403, "The form is stale or was not sent by this page: reload the page.")
    return fields


@router.get("/login")
async def login_form(request: Request) -> Response:
    if current_session(request) is not None:
        return redirect("/")
    return login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    try:
        fields = await read_form(request, None)
    except FormError as exc:
        return login_page(request, error=exc.message, status_code=exc.status_code)
    sessions = sessions_of(request)
    limiter: LoginLimiter = request.app.state.login_limiter
    client = client_key(request.scope.get("client"))
    wait_s = limiter.wait_s(client)
    if wait_s:
        page = login_page(
            request,
            error=too_many_attempts_message(wait_s),
            status_code=429,
            next_path=fields.get("next"),
        )
        page.headers["Retry-After"] = str(wait_s)
        return page
    if not sessions.key_matches(fields.get("key", "")):
        limiter.failed(client)
        return login_page(
            request,
            error="That is not the secret key.",
            status_code=401,
            next_path=fields.get("next"),
        )
    response = redirect(fields.get("next") or "/")
    response.set_cookie(
        COOKIE_NAME,
        sessions.issue(),
        max_age=sessions.max_age_s,
        path="/",
        httponly=True,
        # Lax, not Strict: a link to an operation from Slack or an email opens it for a
        # logged-in user. Other sites still cannot post with the cookie (Lax sends it on
        # top-level GETs only, and every GET here only reads); the forms carry CSRF tokens.
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = current_session(request)
    if session is not None:
        try:
            await read_form(request, session)
        except FormError as exc:
            return render(
                "message.html.j2", exc.status_code, title="Not logged out", text=exc.message
            )
        sessions_of(request).revoke(session)
    response = redirect("/")
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
