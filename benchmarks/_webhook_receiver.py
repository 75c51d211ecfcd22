"""A user's backend for the webhook benchmark, run in its own process.

``python benchmarks/_webhook_receiver.py`` listens on a free port of 127.0.0.1, prints
``listening <port>``, then one line per POST: ``<X-Nango-Webhook-Id> <arrival>``, where
the arrival is ``time.time()`` once the whole body has been read. It answers 200 at once
and keeps connections alive (HTTP/1.1), as a real backend behind a keep-alive proxy.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_out = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        arrived = time.time()
        delivery = self.headers.get("X-Nango-Webhook-Id", "-")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        with _out:
            sys.stdout.write(f"{delivery} {arrived:.6f}\n")
            sys.stdout.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops connections opened all at once
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.05)  # until the benchmark terminates it


if __name__ == "__main__":
    main()
