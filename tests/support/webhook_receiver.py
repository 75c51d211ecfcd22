"""A user's backend for webhook tests: a real threaded HTTP server on 127.0.0.1.

``answers`` scripts the status codes (one per request, then ``default``); ``delay_s``
makes it slow. Every POST is recorded with its arrival time, raw body and headers.
It can listen on a port chosen in advance, so a test can start it after the service
(a receiver that was down and comes back).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from support.http_server import ServedInThread
from support.waiting import eventually, eventually_async

__all__ = ["Delivery", "Receiver", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Delivery:
    """One POST as the receiver saw it."""

    at: float
    """``time.monotonic()`` on arrival."""
    path: str
    headers: dict[str, str]
    """Names lower-cased."""
    body: bytes
    status: int
    """What the receiver answered."""

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["x-nango-webhook-id"]


class Receiver:
    def __init__(
        self,
        port: int | None = None,
        *,
        answers: list[int] | None = None,
        default: int = 200,
        delay_s: float = 0.0,
        decide: Callable[[bytes, dict[str, str]], int] | None = None,
    ) -> None:
        self.port = port if port is not None else free_port()
        self.answers = list(answers or [])
        self.default = default
        self.delay_s = delay_s
        self.decide = decide
        """When given, it picks every status (``answers`` is then unused)."""
        self.deliveries: list[Delivery] = []
        """Answered POSTs, in the order they were answered."""
        self.arrivals: list[float] = []
        """Arrival times of every POST, answered or not yet."""
        self.at_once = 0
        """POSTs arrived and not yet answered."""
        self.most_at_once = 0
        """The most POSTs there were at once, arrived and not yet answered."""
        self._lock = threading.Lock()
        self._served: ServedInThread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if 200 <= d.status < 300]

    def all(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)

    def _count(self, accepted: bool) -> int:
        return len(self.accepted() if accepted else self.all())

    def _awaited(self, count: int, accepted: bool) -> Callable[[], str]:
        kind = "accepted deliveries" if accepted else "deliveries"
        return lambda: f"{count} {kind}, got {self._count(accepted)}"

    def wait_for(self, count: int, timeout_s: float = 10.0, *, accepted: bool = True) -> None:
        eventually(
            lambda: self._count(accepted) >= count,
            self._awaited(count, accepted),
            seconds=timeout_s,
            interval=0.01,
        )

    async def until(self, count: int, timeout_s: float = 10.0, *, accepted: bool = True) -> None:
        """:meth:`wait_for` for async tests: the event loop goes on meanwhile."""
        await eventually_async(
            lambda: self._count(accepted) >= count,
            self._awaited(count, accepted),
            seconds=timeout_s,
            interval=0.005,
        )

    async def until_arrived(self, count: int, timeout_s: float = 10.0) -> None:
        """Wait until ``count`` POSTs arrived, answered or not."""

        def arrived() -> int:
            with self._lock:
                return len(self.arrivals)

        await eventually_async(
            lambda: arrived() >= count,
            lambda: f"{count} POSTs to arrive, got {arrived()}",
            seconds=timeout_s,
            interval=0.005,
        )

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.arrivals.append(arrived)
                    receiver.at_once += 1
                    receiver.most_at_once = max(receiver.most_at_once, receiver.at_once)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                if receiver.decide is not None:  # outside the lock: it may sleep
                    status = receiver.decide(body, headers)
                else:
                    with receiver._lock:
                        status = receiver.answers.pop(0) if receiver.answers else receiver.default
                with receiver._lock:
                    receiver.deliveries.append(Delivery(arrived, self.path, headers, body, status))
                    # before the answer: the sender can send its next POST only after it
                    receiver.at_once -= 1

                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up (its timeout) before the answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._served = ServedInThread(Handler, self.port, poll_interval=0.02)
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
