"""httpx transports between a script's ``ApiClient`` and a cassette.

``RecordingTransport`` sends each request to the network and adds the exchange to the
cassette; ``ReplayTransport`` never touches the network: it answers from the cassette or
raises :class:`CassetteError` naming the request.
"""

from __future__ import annotations

import functools
import ssl

import certifi
import httpx

from nango_scripts.http import READ_AHEAD
from nango_scripts.testing._errors import CassetteError
from nango_scripts.testing._paths import rerecord_hint
from nango_scripts.testing._vcr import Cassette

__all__ = ["RecordingTransport", "ReplayTransport"]


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real network, with every exchange copied into ``cassette``."""

    def __init__(self, cassette: Cassette, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._cassette = cassette
        self._inner = inner or httpx.AsyncHTTPTransport(verify=_ssl_context())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self._inner.handle_async_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        try:
            # Raw bytes, still compressed if the API compressed them: the client decodes
            # them as usual, and vcrpy decompresses its copy before it is scrubbed.
            content = b"".join([chunk async for chunk in stream])
        finally:
            await stream.aclose()
        response.stream = httpx.ByteStream(content)
        self._cassette.record(request, body, response, content)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers from ``cassette`` only; ``misses`` keeps every request it had no answer for."""

    def __init__(self, cassette: Cassette, script: str, connection_id: str | None) -> None:
        self._cassette = cassette
        self._script = script
        self._connection_id = connection_id
        self.misses: list[CassetteError] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        played = self._cassette.play(request, body)
        if played is not None:
            return played
        shown = self._cassette.scrubbed_url(str(request.url))
        error = CassetteError(
            f"{request.method} {shown} is not in the cassette {self._cassette.path}: "
            f"{self._cassette.why_missing(request, body)}.",
            hint=rerecord_hint(self._script, self._connection_id),
        )
        if not request.extensions.get(READ_AHEAD):
            # A page read ahead that the script may never want: not a miss (yet). When
            # the script wants it, paginate asks again, and that request counts.
            self.misses.append(error)
        raise error
