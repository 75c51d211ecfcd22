"""A fast fake API for the benchmarks, run in its own process.

``GET /items?limit=N&cursor=K`` answers a page of ~1 KB records with the next cursor
in the body; every page body is rendered once up front so that serving costs the
same for every client measured.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def make_record(i: int) -> dict[str, object]:
    return {
        "id": str(i),
        "title": f"Issue number {i}",
        "state": "open" if i % 3 else "closed",
        "body": ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 13)[:760],
        "labels": ["bug", "p2", "backend"],
        "author": {"login": f"user{i % 97}", "id": i % 97},
        "comments": i % 17,
        "updated_at": "2024-05-01T12:00:00Z",
    }


def render_pages(total: int, limit: int) -> dict[int, bytes]:
    pages: dict[int, bytes] = {}
    for start in range(0, total, limit):
        items = [make_record(i) for i in range(start, min(start + limit, total))]
        nxt = start + limit
        body = {"items": items, "next_cursor": str(nxt) if nxt < total else None}
        pages[start] = json.dumps(body).encode()
    return pages


def serve(total: int, limit: int) -> None:
    pages = render_pages(total, limit)
    empty = json.dumps({"items": [], "next_cursor": None}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            start = int(query.get("cursor", ["0"])[0])
            body = pages.get(start, empty)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
