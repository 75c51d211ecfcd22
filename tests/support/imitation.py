"""A local imitation of a provider's API that answers from a template's fixture file.

One fixture file (``templates/<provider>/tests/fixtures/<cassette>.json``) describes one
recorded run: the answers the API gives, each found by method, path (relative to the
provider's base URL), the whole query and, optionally, a subset of the JSON body::

    {"metadata": {...}, "input": {...}, "last_sync_date": "ISO", "expect_error": false,
     "responses": [{"method": "GET", "path": "/repos/acme/app/issues",
                    "query": {"per_page": "100"}, "json": null, "status": 200,
                    "headers": {"Link": "<{base}/...&page=2>; rel=\\"next\\""},
                    "body": [...]}]}

``{base}`` in a header or in the body becomes the imitation's base URL (absolute
next-page links). A request that matches no entry gets a 404 and is kept in
:attr:`Imitation.unmatched`, so the recorder can say what the script really sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support.http_server import ServedInThread

__all__ = ["Fixture", "Imitation", "load_fixture"]


@dataclass(frozen=True)
class Fixture:
    path: Path
    metadata: dict[str, Any] | None
    input: Any
    last_sync_date: str | None
    expect_error: bool
    responses: list[dict[str, Any]]

    @property
    def script(self) -> str:
        return self.path.stem.partition("@")[0]

    @property
    def variant(self) -> str | None:
        return self.path.stem.partition("@")[2] or None


def load_fixture(path: Path) -> Fixture:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("responses"), list):
        raise ValueError(f"{path}: a fixture is an object with a 'responses' list")
    for i, entry in enumerate(data["responses"]):
        missing = {"method", "path"} - set(entry)
        if missing:
            raise ValueError(f"{path}: responses[{i}] lacks {', '.join(sorted(missing))}")
    return Fixture(
        path=path,
        metadata=data.get("metadata"),
        input=data.get("input"),
        last_sync_date=data.get("last_sync_date"),
        expect_error=bool(data.get("expect_error", False)),
        responses=data["responses"],
    )


def _query_of(raw: str) -> dict[str, Any]:
    parsed = parse_qs(raw, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _as_strings(query: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (query or {}).items():
        if isinstance(value, list):
            out[key] = [_scalar(v) for v in value]
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _contains(actual: Any, subset: Any) -> bool:
    if isinstance(subset, dict):
        return isinstance(actual, dict) and all(
            k in actual and _contains(actual[k], v) for k, v in subset.items()
        )
    return bool(actual == subset)


@dataclass
class Imitation:
    """Serves one fixture on 127.0.0.1 under ``base_path`` (the provider's base URL path)."""

    fixture: Fixture
    base_path: str = ""
    unmatched: list[str] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    _served: ServedInThread | None = None

    @property
    def origin(self) -> str:
        assert self._served is not None
        return self._served.origin

    @property
    def base_url(self) -> str:
        return self.origin + self.base_path

    def __enter__(self) -> Imitation:
        imitation = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _answer(self) -> None:
                imitation._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        # handler threads are joined on close, as before (not daemon threads)
        self._served = ServedInThread(Handler, daemon_threads=False)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._served is not None
        self._served.stop()

    def unused(self) -> list[str]:
        return [
            f"{e['method']} {e['path']} {json.dumps(e.get('query') or {})}"
            for i, e in enumerate(self.fixture.responses)
            if i not in self.used
        ]

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        path = unquote(split.path)
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path) :] or "/"
        query = _query_of(split.query)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        for index, entry in enumerate(self.fixture.responses):
            if (
                entry["method"].upper() == request.command
                and entry["path"] == path
                and _as_strings(entry.get("query")) == query
                and (entry.get("json") is None or _contains(body, entry["json"]))
            ):
                self.used.add(index)
                self._send(request, entry)
                return
        shown = f"{request.command} {path} query={json.dumps(query, sort_keys=True)}"
        if body is not None:
            shown += f" json={json.dumps(body, sort_keys=True)[:400]}"
        self.unmatched.append(shown)
        payload = json.dumps({"error": f"no fixture entry matches {shown}"}).encode()
        request.send_response(404)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _send(self, request: BaseHTTPRequestHandler, entry: Mapping[str, Any]) -> None:
        base = self.base_url
        headers = {
            k: str(v).replace("{base}", base) for k, v in (entry.get("headers") or {}).items()
        }
        body = entry.get("body")
        if isinstance(body, str):
            payload = body.replace("{base}", base).encode()
        elif body is None and int(entry.get("status", 200)) == 204:
            payload = b""
        else:
            payload = json.dumps(body).replace("{base}", base).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        request.send_response(int(entry.get("status", 200)))
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
