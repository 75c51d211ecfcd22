"""A cheaper HTTP/1.1 transport under httpx: aiohttp's C parser instead of httpcore.

Scripts, the proxy and ``ApiClient`` keep seeing httpx (``httpx.Request``/``Response``, httpx's
exceptions, its redirects, cookies, auth and content decoding); only the exchange on the
wire changes. ``fast_transport`` builds it (httpx's own transport when aiohttp is missing).

What the adapter keeps of httpx's transport contract:

- the body comes back raw (``auto_decompress=False``): httpx decodes Content-Encoding;
- redirects are not followed here (httpx follows them), cookies are not kept here;
- headers go out and come back as lists, so repeated ones (Set-Cookie, Link) survive,
  and aiohttp adds none of its own (no User-Agent, Accept or Content-Type httpx did not set);
  a request with a non-ASCII header value goes through httpx's own transport, as aiohttp
  would re-encode the value as UTF-8;
- network failures raise the httpx exceptions httpx's transport raises (``ConnectError``,
  ``ConnectTimeout``, ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError``...), so retry
  logic written against httpx works unchanged;
- the per-request ``timeout`` extension is honoured: connect, read (per socket read, as
  httpx) and pool (waiting for a free connection); aiohttp has no write timeout;
- one keep-alive pool per transport, created lazily inside the running event loop (a
  client may be built before the loop runs) and closed by ``aclose``; like httpcore's
  pool, it belongs to that loop: a transport serves one event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

try:
    import aiohttp
    import yarl
    from aiohttp.http_exceptions import HttpProcessingError
except ImportError:  # pragma: no cover - exercised only where aiohttp is absent
    aiohttp = None  # type: ignore[assignment]

__all__ = ["AiohttpTransport", "fast_transport"]

# Headers aiohttp would add to a request when httpx did not: the request goes out as
# httpx built it, or as a test/script asked for it.
_NO_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})
# h11 accepts header lines well past aiohttp's default 8190 bytes (long Link or Set-Cookie
# lines are real); don't fail a response httpx's own transport would have read.
_MAX_HEADER_LINE = 65536
_READ_BUFFER = 262144
# A page's body arrives decoded: its headers must not say otherwise to httpx.
_DECODED_AWAY = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


def fast_transport(
    verify: ssl.SSLContext,
    *,
    max_connections: int = 100,
    keepalive_expiry: float = 5.0,
) -> httpx.AsyncBaseTransport:
    """The cheapest transport available: aiohttp's when installed, else httpx's own."""
    if aiohttp is None:  # pragma: no cover
        return httpx.AsyncHTTPTransport(
            verify=verify,
            limits=httpx.Limits(max_connections=max_connections, keepalive_expiry=keepalive_expiry),
        )
    return AiohttpTransport(
        verify, max_connections=max_connections, keepalive_expiry=keepalive_expiry
    )


def _mapped(exc: BaseException, request: httpx.Request) -> httpx.HTTPError:
    """The httpx exception httpx's own transport raises for the same failure.

    aiohttp raises ``ClientConnectorError`` and ``ConnectionTimeoutError`` while it
    connects; any other network error comes after, on an open connection.
    """
    message = str(exc) or type(exc).__name__
    error: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.SocketTimeoutError | TimeoutError):
        error = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake
        error = httpx.ConnectError
    elif isinstance(
        exc,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientResponseError
        | HttpProcessingError,
    ):
        # Closed before or within the answer, or an answer that is not valid HTTP: httpcore
        # raises RemoteProtocolError for each.
        error = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.NonHttpUrlClientError | aiohttp.InvalidURL):
        error = httpx.UnsupportedProtocol
    elif isinstance(exc, ssl.SSLError):
        error = httpx.ConnectError
    elif isinstance(exc, aiohttp.ClientOSError | OSError | aiohttp.ClientConnectionError):
        error = httpx.ReadError
    else:
        error = httpx.TransportError
    return error(message, request=request)


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError:
        raise  # a request stream's own error, already httpx's
    except (TimeoutError, aiohttp.ClientError, HttpProcessingError, OSError) as exc:
        raise _mapped(exc, request) from exc


class _Body(httpx.AsyncByteStream):
    """The response body as aiohttp reads it, chunk by chunk, raw."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        with _httpx_errors(self._request):
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the whole body has arrived (read or not), else closed:
        # aiohttp decides, as the connection's parser knows where the answer ends.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's transport contract over one aiohttp ``ClientSession`` (see the module doc)."""

    def __init__(
        self,
        verify: ssl.SSLContext,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        if aiohttp is None:  # pragma: no cover
            raise RuntimeError("AiohttpTransport needs aiohttp: pip install 'aiohttp>=3.10'")
        self._ssl = verify
        self._limit = max_connections
        self._keepalive = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fallback: httpx.AsyncHTTPTransport | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        """The session of the running loop, made on first use (it binds to the loop)."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and not session.closed:
            return session
        if self._closed:
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        if session is not None and self._loop is not loop and not session.closed:
            # Its pooled sockets belong to the other loop, and cannot be closed from this one.
            raise RuntimeError(
                "This transport's connections belong to another event loop: "
                "build one transport (one client) per event loop."
            )
        connector = aiohttp.TCPConnector(
            ssl=self._ssl,
            limit=self._limit,
            keepalive_timeout=self._keepalive,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            auto_decompress=False,  # httpx decodes Content-Encoding
            skip_auto_headers=_NO_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=_MAX_HEADER_LINE,
            max_field_size=_MAX_HEADER_LINE,
            trust_env=False,  # httpx mounts proxies itself
            # Reads of up to 256 KiB before the socket is paused: pages of 1,000 records
            # (~400 KB) arrive in fewer chunks than with the default 64 KiB.
            read_bufsize=_READ_BUFFER,
        )
        self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        if not all(value.isascii() for _, value in request.headers.raw):
            # aiohttp writes header values as UTF-8; httpx sends them as given (Latin-1
            # for a str). A rare request, and it goes out byte for byte through httpx.
            return await self._httpcore().handle_async_request(request)
        headers = request.headers.multi_items()
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            # A streamed body, framed as its headers say (as httpcore does): none when they
            # announce none (a redirected GET carries an empty stream), its length when
            # known, else chunked, which aiohttp adds itself.
            if "content-length" in request.headers:
                data = _request_chunks(request)
            elif "transfer-encoding" in request.headers:
                data = _request_chunks(request)
                headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
            else:
                data = None
        timeout = request.extensions.get("timeout") or {}
        connect, pool = timeout.get("connect"), timeout.get("pool")
        timeouts = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` includes waiting for the pool; `sock_connect` is the connect.
            connect=None if pool is None else pool + (connect or 0.0),
            sock_connect=connect,
            sock_read=timeout.get("read"),
        )
        url = yarl.URL(str(request.url), encoded=True)
        with _httpx_errors(request):
            try:
                response = await session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    auto_decompress=False,
                    timeout=timeouts,
                    server_hostname=request.extensions.get("sni_hostname"),
                )
            except aiohttp.ServerDisconnectedError as exc:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                ) from exc
        version = response.version
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={
                "http_version": b"HTTP/%d.%d" % (version.major, version.minor)
                if version is not None
                else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def page_get(
        self, url: httpx.URL, headers: list[tuple[str, str]], socket_timeout_s: float
    ) -> httpx.Response | None:
        """A GET of one page for ``paginate``, without httpx's client in between (its
        request building, hooks, redirect and cookie handling cost more CPU than the rest
        of a page). ``headers`` are the whole request's (the client's defaults merged).

        The body comes back decoded (aiohttp does gzip and deflate; the headers ask for no
        other) and whole, in an ``httpx.Response`` whose ``Content-Encoding`` is gone.
        None for what httpx must handle: a redirect (it follows it, hop by hop, with the
        credential checks) or a header value that is not ASCII.
        """
        if not all(value.isascii() for _, value in headers):
            return None
        session = self._open()
        request = httpx.Request("GET", url)  # an httpx.URL is taken as it is, not re-parsed
        timeouts = aiohttp.ClientTimeout(
            total=None, sock_connect=socket_timeout_s, sock_read=socket_timeout_s
        )
        with _httpx_errors(request):
            async with session.get(
                yarl.URL(str(url), encoded=True),
                headers=headers,
                allow_redirects=False,
                auto_decompress=True,
                timeout=timeouts,
            ) as answer:
                if 300 <= answer.status < 400 and "Location" in answer.headers:
                    return None
                body = await answer.read()
        kept = [
            (name, value) for name, value in answer.raw_headers if name.lower() not in _DECODED_AWAY
        ]
        kept.append((b"content-length", str(len(body)).encode()))
        version = answer.version
        return httpx.Response(
            status_code=answer.status,
            headers=kept,
            content=body,
            request=request,
            extensions={
                "http_version": b"HTTP/%d.%d" % (version.major, version.minor)
                if version is not None
                else b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode("latin-1", "replace"),
            },
        )

    def _httpcore(self) -> httpx.AsyncHTTPTransport:
        if self._fallback is None:
            self._fallback = httpx.AsyncHTTPTransport(
                verify=self._ssl,
                limits=httpx.Limits(max_connections=self._limit, keepalive_expiry=self._keepalive),
            )
        return self._fallback

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        fallback, self._fallback = self._fallback, None
        if session is not None and not session.closed:
            await session.close()
        if fallback is not None:
            await fallback.aclose()


async def _request_chunks(request: httpx.Request) -> AsyncIterator[bytes]:
    stream = request.stream
    if not isinstance(stream, httpx.AsyncByteStream):  # pragma: no cover - httpx checks this
        raise RuntimeError("Attempted to send a sync request with an async transport.")
    async for chunk in stream:
        yield chunk
