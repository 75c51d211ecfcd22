"""A fast local issues API for ``bench_run.py``, run in its own process.

    python benchmarks/_issues_api.py RECORDS      # prints its port, then serves

- ``GET /issues?limit=N[&cursor=K][&since=ISO]``: ``{"items": [...], "next_cursor": K|null}``,
  issues in id order; with ``since``, only those updated after it, deleted ones as
  tombstones ``{"id": n, "deleted": true, "updated_at": ...}``.
- ``POST /mutate?changed=N&deleted=M``: changes the title and ``updated_at`` of N issues
  and deletes M others (spread over the whole range), now.

Every answer of the full listing is rendered once per (limit, cursor) and kept, so that
serving costs the same small amount for every client measured. The server is a bare
asyncio protocol (keep-alive HTTP/1.1, no framework): on a 2-core machine the API must
take as little CPU as possible from the clients it measures.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

CREATED = "2024-01-02T03:04:05Z"
UPDATED = "2024-05-01T12:00:00Z"
BODY = (
    "Exporting a report with more than 10,000 rows times out after 30 seconds; "
    "smaller exports work. Steps: open Reports, choose All, press Export."
)


def make_issue(i: int) -> dict[str, object]:
    """An issue of ~415 bytes of JSON."""
    return {
        "id": i,
        "number": i,
        "title": f"Export of large reports times out (#{i})",
        "state": "open" if i % 3 else "closed",
        "body": BODY,
        "user": {"login": f"user{i % 97}", "id": i % 97},
        "labels": ["bug", "p2"],
        "comments": i % 17,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }


class Issues:
    def __init__(self, total: int) -> None:
        self.issues: dict[int, dict[str, object]] = {i: make_issue(i) for i in range(1, total + 1)}
        self.ids = list(self.issues)
        self.tombstones: dict[int, str] = {}
        self.mutated: dict[int, None] = {}
        """Ids changed by ``mutate``, in id order: a ``since`` after the first
        ``updated_at`` needs to look at these only."""
        self.rendered: dict[tuple[int, int], bytes] = {}

    def page(self, limit: int, cursor: int, since: str | None) -> bytes:
        if since is None:
            key = (limit, cursor)
            body = self.rendered.get(key)
            if body is None:
                items = [self.issues[i] for i in self.ids[cursor : cursor + limit]]
                nxt = cursor + limit if cursor + limit < len(self.ids) else None
                body = json.dumps({"items": items, "next_cursor": nxt}).encode()
                self.rendered[key] = body
            return body
        candidates = self.mutated if since >= UPDATED else self.ids
        changed: list[object] = [
            self.issues[i]
            for i in candidates
            if i in self.issues and str(self.issues[i]["updated_at"]) > since
        ]
        changed += [
            {"id": i, "deleted": True, "updated_at": at}
            for i, at in self.tombstones.items()
            if at > since
        ]
        items = changed[cursor : cursor + limit]
        nxt = cursor + limit if cursor + limit < len(changed) else None
        return json.dumps({"items": items, "next_cursor": nxt}).encode()

    def mutate(self, changed: int, deleted: int) -> bytes:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        live = self.ids
        step = max(1, len(live) // max(1, changed + deleted))
        picked = live[::step][: changed + deleted]
        for i in picked[:changed]:
            issue = dict(self.issues[i])
            issue["title"] = f"{issue['title']} (edited)"
            issue["updated_at"] = now
            self.issues[i] = issue
        for i in picked[changed:]:
            del self.issues[i]
            self.tombstones[i] = now
        self.ids = list(self.issues)
        self.mutated = dict.fromkeys(sorted({*self.mutated, *picked[:changed]}))
        self.rendered.clear()
        return json.dumps(
            {"changed": changed, "deleted": len(picked[changed:]), "at": now}
        ).encode()


class Http(asyncio.Protocol):
    def __init__(self, issues: Issues) -> None:
        self.issues = issues
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.answer(method, target)

    def answer(self, method: str, target: str) -> None:
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if method == "GET" and url.path == "/issues":
            body = self.issues.page(
                int(query.get("limit", "100")), int(query.get("cursor", "0")), query.get("since")
            )
            status = "200 OK"
        elif method == "POST" and url.path == "/mutate":
            body = self.issues.mutate(
                int(query.get("changed", "0")), int(query.get("deleted", "0"))
            )
            status = "200 OK"
        else:
            body, status = b'{"error":"not found"}', "404 Not Found"
        assert self.transport is not None
        self.transport.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


async def serve(total: int) -> None:
    issues = Issues(total)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Http(issues), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
