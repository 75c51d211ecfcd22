"""A small fake HTTP API on 127.0.0.1 for tests and benchmarks: a real server, not a mock.

Use it as a context manager or through the ``fake_api`` fixture::

    with FakeApi() as api:
        api.route("/v1/items", lambda req: (200, {}, {"items": [1, 2]}))
        ...  # point the code under test at api.url ("http://127.0.0.1:<port>")
        assert api.requests[0].query == {"limit": "2"}

A handler takes a :class:`Received` and returns ``(status, headers, body)``. The body is
sent as is when it is ``bytes``, UTF-8 encoded when it is ``str``, empty when ``None``,
and as JSON (``Content-Type: application/json`` unless the headers say otherwise)
otherwise. A handler that raises answers 500 with the traceback as the body, and the
exception is kept in ``api.errors`` so a test can fail on it.

Routes match the path exactly (query string excluded); an unknown path answers 404.
Every request is recorded in ``api.requests`` in arrival order. The server speaks
HTTP/1.1 with keep-alive (one thread per connection), so clients reuse connections as
they would with a real API, which matters for benchmarks.

The ``fake_api`` fixture is best registered once for the whole suite, in
``tests/conftest.py``: ``pytest_plugins = ["fakeapi"]``. Until then a folder's
``conftest.py`` can re-export it (``from fakeapi import fake_api  # noqa: F401``; ``tests/``
is on ``sys.path`` through the rootdir conftest), but that conftest must not also take
``fake_api`` as a fixture argument (ruff F811).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from support.http_server import ServedInThread

__all__ = ["FakeApi", "Handler", "Received", "Reply", "fake_api", "json_reply"]

Reply = tuple[int, Mapping[str, str], Any]
Handler = Callable[["Received"], Reply]


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    """Path without the query string, e.g. ``/v1/items``."""
    query: dict[str, str]
    """Query parameters; a repeated name keeps its last value (see ``query_all``)."""
    query_all: dict[str, list[str]]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    target: str = ""
    """The raw request target (path and query) as sent."""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        """The body read as ``application/x-www-form-urlencoded``."""
        return dict(parse_qsl(self.body.decode()))


def json_reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Handler:
    """A handler that always answers the same thing."""

    def handler(_: Received) -> Reply:
        return status, dict(headers or {}), body

    return handler


def _encode(headers: Mapping[str, str], body: Any) -> tuple[dict[str, str], bytes]:
    out = dict(headers)
    names = {name.lower() for name in out}
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
        if "content-type" not in names:
            out["Content-Type"] = "text/plain; charset=utf-8"
    else:
        data = json.dumps(body).encode()
        if "content-type" not in names:
            out["Content-Type"] = "application/json"
    return out, data


class FakeApi:
    """A threaded HTTP server on 127.0.0.1 (a free port) with per-path handlers."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Received] = []
        self.errors: list[BaseException] = []
        self._served: ServedInThread | None = None

    # -- routes and inspection -------------------------------------------------------------

    def route(self, path: str, handler: Handler) -> None:
        """Answer requests to ``path`` (exact, without query) with ``handler``."""
        self.routes[path] = handler

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._served is None:
            raise RuntimeError("FakeApi is not started")
        return self._served.origin

    def url_for(self, path: str) -> str:
        return self.url + path

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeApi:
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without this, Nagle's algorithm and
            # delayed ACKs add ~40 ms to every response.
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query_all = parse_qs(split.query, keep_blank_values=True)
                received = Received(
                    method=self.command,
                    path=split.path,
                    query={k: v[-1] for k, v in query_all.items()},
                    query_all=query_all,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    target=self.path,
                )
                api.requests.append(received)
                handler = api.routes.get(split.path)
                try:
                    if handler is None:
                        reply: Reply = (404, {}, {"error": f"no route for {split.path}"})
                    else:
                        reply = handler(received)
                except Exception as exc:
                    api.errors.append(exc)
                    reply = (500, {}, traceback.format_exc())
                status, headers, payload = reply
                out_headers, data = _encode(headers, payload)
                self.send_response(status)
                for name, value in out_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data and self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self._served = ServedInThread(_Handler, poll_interval=0.05)
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None

    def __enter__(self) -> FakeApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A started :class:`FakeApi`; fails the test if a handler raised."""
    with FakeApi() as api:
        yield api
    if api.errors:
        raise AssertionError(f"fake API handler raised: {api.errors[0]!r}") from api.errors[0]
