"""The aiohttp transport under httpx, against a real HTTP/1.1 server on 127.0.0.1.

Each test holds the adapter to httpx's own transport contract: raw bodies (httpx decodes),
repeated headers, request bodies of every kind, redirects left to httpx, httpx's
exceptions for network failures, the per-request timeout, one kept-alive connection.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from support.http_server import ServedInThread

from nango_scripts.http._transport import AiohttpTransport, fast_transport

pytestmark = pytest.mark.anyio

CTX = ssl.create_default_context()
RELEASE = threading.Event()  # set at teardown: frees handlers that stall


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    ports: list[int] = []  # noqa: RUF012 - the client port of every request, in order

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        # Head and body in one write, so that a small answer arrives whole.
        self._headers_buffer.append(b"\r\n" + body)  # type: ignore[attr-defined]
        self.flush_headers()

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            out = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    return out
                out += chunk
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        Handler.ports.append(self.client_address[1])
        if self.path == "/hello":
            self._send(
                201,
                b"hello",
                [
                    ("Set-Cookie", "a=1"),
                    ("Set-Cookie", "b=2"),
                    ("Link", "<https://x/?page=2>; rel=next"),
                    ("Link", "<https://x/?page=9>; rel=last"),
                    ("X-Seen-Agent", self.headers.get("User-Agent", "")),
                ],
            )
        elif self.path == "/gzip":
            body = gzip.compress(json.dumps({"items": list(range(100))}).encode())
            self._send(
                200, body, [("Content-Encoding", "gzip"), ("Content-Type", "application/json")]
            )
        elif self.path == "/big":
            try:
                self._send(200, b"x" * 2_000_000)
            except OSError:  # the client stops reading early
                self.close_connection = True
        elif self.path == "/redirect":
            self._send(302, b"", [("Location", "/hello")])
        elif self.path == "/stall":  # no answer at all
            RELEASE.wait(5)
            self.close_connection = True
        elif self.path == "/stall-body":  # headers, then part of the body, then nothing
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            RELEASE.wait(5)
            self.close_connection = True
        elif self.path == "/truncated":  # closes mid-body
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/hangup":  # reads the request, closes without an answer
            self.close_connection = True
        else:
            self._send(404, b"no such page")

    def do_POST(self) -> None:
        body = self._body()
        echo = {
            "content_type": self.headers.get("Content-Type"),
            "content_length": self.headers.get("Content-Length"),
            "transfer_encoding": self.headers.get("Transfer-Encoding"),
            "x_dup": self.headers.get_all("X-Dup"),
            "x_note": self.headers.get("X-Note"),
            "body": body.decode("latin-1"),
        }
        self._send(200, json.dumps(echo).encode(), [("Content-Type", "application/json")])


@pytest.fixture
def server() -> Iterator[ServedInThread]:
    RELEASE.clear()
    Handler.ports = []
    served = ServedInThread(Handler, poll_interval=0.02)
    yield served
    RELEASE.set()
    served.stop()


@pytest.fixture
async def client(server: ServedInThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=AiohttpTransport(CTX), base_url=server.origin, timeout=5.0
    ) as http:
        yield http


async def test_status_headers_and_repeated_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/hello")
    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.http_version == "HTTP/1.1"
    assert response.content == b"hello"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers.get_list("link") == [
        "<https://x/?page=2>; rel=next",
        "<https://x/?page=9>; rel=last",
    ]
    assert response.headers["x-seen-agent"].startswith("python-httpx/")
    assert dict(client.cookies) == {"a": "1", "b": "2"}  # httpx keeps the cookies


async def test_gzip_body_is_decoded_by_httpx(client: httpx.AsyncClient) -> None:
    response = await client.get("/gzip")
    assert response.json() == {"items": list(range(100))}
    assert response.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("kind", ["json", "form", "raw", "stream", "multipart"])
async def test_post_bodies(client: httpx.AsyncClient, kind: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    bodies: dict[str, dict[str, Any]] = {
        "json": {"json": {"a": [1, 2], "b": "é"}},
        "form": {"data": {"name": "x y", "n": "1"}},
        "raw": {"content": b"\x00raw bytes\xff"},
        "stream": {"content": chunks()},
        "multipart": {"data": {"k": "v"}, "files": {"f": ("a.txt", b"file body", "text/plain")}},
    }
    sent = bodies[kind]
    dup = [("X-Dup", "1"), ("X-Dup", "2")]
    request = client.build_request("POST", "/echo", headers=dup, **sent)
    response = await client.send(request)
    echo = response.json()
    body = echo["body"].encode("latin-1")
    assert echo["x_dup"] == ["1", "2"]  # repeated request headers go out repeated
    if kind == "json":
        assert json.loads(body) == {"a": [1, 2], "b": "é"}
        assert echo["content_type"] == "application/json"
    elif kind == "form":
        assert body == b"name=x+y&n=1"
        assert echo["content_type"] == "application/x-www-form-urlencoded"
    elif kind == "raw":
        assert body == b"\x00raw bytes\xff"
        assert echo["content_type"] is None  # nothing added that httpx did not send
        assert echo["content_length"] == str(len(body))
    elif kind == "stream":
        assert body == b"one,two,three"
        assert echo["transfer_encoding"] == "chunked"
        assert echo["content_type"] is None
    else:
        assert echo["content_type"] == request.headers["content-type"]
        assert echo["content_length"] == str(len(body))
        assert b'name="k"\r\n\r\nv\r\n' in body
        assert b'filename="a.txt"' in body and b"file body" in body


async def test_a_latin_1_header_value_goes_out_as_httpx_encodes_it(
    client: httpx.AsyncClient,
) -> None:
    # As ApiClient sends them: Latin-1 bytes (httpx takes only ASCII in a str).
    response = await client.post("/echo", headers={b"X-Note": b"caf\xe9"}, content=b"x")
    assert response.json()["x_note"] == "caf\xe9"  # one byte 0xE9, not UTF-8's two
    assert response.json()["body"] == "x"


async def test_redirect_is_followed_by_httpx(client: httpx.AsyncClient) -> None:
    response = await client.get("/redirect", follow_redirects=True)
    assert response.status_code == 201
    assert [r.status_code for r in response.history] == [302]
    assert str(response.url).endswith("/hello")
    unfollowed = await client.get("/redirect")
    assert unfollowed.status_code == 302
    assert unfollowed.headers["location"] == "/hello"


async def test_connect_refused_is_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient(transport=AiohttpTransport(CTX)) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"http://127.0.0.1:{port}/")
    assert caught.value.request.url.port == port


@pytest.mark.parametrize("path", ["/stall", "/stall-body"])
async def test_stalled_server_is_read_timeout(client: httpx.AsyncClient, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await client.get(path, timeout=httpx.Timeout(5.0, read=0.3))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("path", ["/truncated", "/hangup"])
async def test_server_closing_mid_response(client: httpx.AsyncClient, path: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(path)
    # The pool recovers: the next request gets a new connection.
    assert (await client.get("/hello")).status_code == 201


async def test_sequential_requests_reuse_one_connection(client: httpx.AsyncClient) -> None:
    for _ in range(20):
        response = await client.get("/hello")
        assert response.content == b"hello"
    big = await client.get("/gzip")  # a body read to its end returns the connection too
    assert big.status_code == 200
    assert len(Handler.ports) == 21
    assert len(set(Handler.ports)) == 1


async def test_unread_streamed_body_does_not_poison_the_pool(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/big") as response:
        async for chunk in response.aiter_raw():
            assert chunk
            break  # closed with most of the body unread: that connection cannot be reused
    async with client.stream("GET", "/hello") as response:
        assert response.status_code == 201  # closed unread, but all of it had arrived
    assert (await client.get("/hello")).content == b"hello"
    big, small, last = Handler.ports
    assert big != small  # a new connection after the unread big body
    assert small == last  # the small one went back to the pool


async def test_closes_cleanly(server: ServedInThread) -> None:
    transport = AiohttpTransport(CTX)
    async with httpx.AsyncClient(transport=transport, base_url=server.origin) as http:
        assert (await http.get("/hello")).status_code == 201
        session = transport._session
        assert session is not None and not session.closed
    assert session.closed
    with pytest.raises(RuntimeError, match="closed"):
        await transport.handle_async_request(httpx.Request("GET", f"{server.origin}/hello"))


def test_built_outside_a_loop_and_bound_to_the_first(server: ServedInThread) -> None:
    """Built before any loop runs (as ApiClient may be): the session is made in the loop."""
    transport = fast_transport(CTX)
    assert isinstance(transport, AiohttpTransport)
    http = httpx.AsyncClient(transport=transport, base_url=server.origin)

    async def one() -> int:
        return (await http.get("/hello")).status_code

    first, other = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        assert transport._session is None  # nothing made outside a loop
        assert first.run_until_complete(one()) == 201
        assert first.run_until_complete(one()) == 201
        with pytest.raises(RuntimeError, match="another event loop"):
            other.run_until_complete(one())
        first.run_until_complete(http.aclose())
    finally:
        first.close()
        other.close()
