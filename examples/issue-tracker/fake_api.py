"""The example's issue-tracker API: a small stdlib HTTP server, started by run_example.py.

- ``GET /issues?per_page=N&page=P&since=ISO`` pages with a ``Link: <...>; rel="next"`` header
- ``GET /labels``; ``POST /issues`` creates an issue
- every request needs ``X-Api-Key: demo-key``
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_KEY = "demo-key"
_BASE_TIME = datetime(2024, 5, 1, tzinfo=UTC)


def _seed() -> list[dict[str, object]]:
    return [
        {
            "id": str(i),
            "title": f"Issue {i}",
            "state": "closed" if i % 4 == 0 else "open",
            "labels": ["bug"] if i % 2 else ["feature"],
            "updated_at": (_BASE_TIME + timedelta(hours=i)).isoformat(),
        }
        for i in range(1, 61)
    ]


class TrackerApi:
    def __init__(self) -> None:
        self.issues = _seed()
        self.labels = [
            {"id": "bug", "name": "bug", "color": "d73a4a"},
            {"id": "feature", "name": "feature", "color": "a2eeef"},
        ]
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(
                self, status: int, body: object, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("X-Api-Key") == API_KEY:
                    return True
                self._send(401, {"message": "bad or missing X-Api-Key"})
                return False

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/labels":
                    self._send(200, api.labels)
                elif url.path == "/issues":
                    self._send(*api.list_issues(query, self.headers.get("Host", "")))
                else:
                    self._send(404, {"message": f"no route {url.path}"})

            def do_POST(self) -> None:
                if not self._authorised():
                    return
                if urlsplit(self.path).path != "/issues":
                    self._send(404, {"message": "no such route"})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                self._send(*api.create_issue(payload))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def list_issues(self, query: dict[str, str], host: str) -> tuple[int, object, dict[str, str]]:
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        items = self.issues
        if "since" in query:
            since = datetime.fromisoformat(query["since"])
            items = [i for i in items if datetime.fromisoformat(str(i["updated_at"])) >= since]
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            rest = "&".join(f"{k}={v}" for k, v in query.items() if k != "page")
            headers["Link"] = f'<http://{host}/issues?{rest}&page={page + 1}>; rel="next"'
        return 200, chunk, headers

    def create_issue(self, payload: dict[str, object]) -> tuple[int, object]:
        title = payload.get("title")
        if not isinstance(title, str) or not title:
            return 422, {"message": "title is required"}
        with self._lock:
            issue = {
                "id": str(len(self.issues) + 1),
                "title": title,
                "state": "open",
                "labels": payload.get("labels") or [],
                "updated_at": datetime.now(UTC).isoformat(),
            }
            self.issues.append(issue)
        return 201, issue

    def start(self) -> TrackerApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
