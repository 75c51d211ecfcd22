"""Rendering the Activity page: the jinja2 templates of ``server/templates``, their
filters, the page's two static files, and the headers every page answer carries.

The templates escape everything they print (``autoescape``); the page's script and style
are files served from here, so the Content-Security-Policy forbids inline code and any
other origin (the page works offline, with no build step).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import jinja2
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

__all__ = ["PAGE_HEADERS", "assets_router", "duration", "moment", "render"]

_HERE: Final = Path(__file__).parent
_ASSETS: Final = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
}
PAGE_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self';"
    " img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def moment(value: datetime | None) -> str:
    """``2024-05-01 12:00:02 UTC``; an em dash for nothing."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(ms: float | None) -> str:
    """``84 ms``, ``1.2 s``, ``3 min 05 s``; an em dash for nothing."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["moment"] = moment
    environment.filters["duration"] = duration
    environment.filters["pretty"] = _pretty
    return environment


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


assets_router = APIRouter(include_in_schema=False)


@assets_router.get("/assets/{name}")
async def asset(name: str) -> Response:
    """The page's script and style (no key needed: the login form uses them)."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(_asset_bytes(name), media_type=media_type, headers=PAGE_HEADERS)


@functools.cache
def _asset_bytes(name: str) -> bytes:
    """Two small files, read once."""
    return (_HERE / "assets" / name).read_bytes()


# A browser asks for /favicon.ico on every page: answered without the key (it is not
# secret) so that the page logs no error. A small SVG: browsers take it at this path.
_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<rect width="16" height="16" rx="3" fill="#1f6feb"/>'
    b'<path d="M4 12V4l8 8V4" stroke="#fff" stroke-width="2" fill="none"/></svg>'
)


@assets_router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(
        _FAVICON,
        media_type="image/svg+xml",
        headers={**PAGE_HEADERS, "Cache-Control": "public, max-age=86400"},
    )
