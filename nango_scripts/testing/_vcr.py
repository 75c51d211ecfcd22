"""The one door to vcrpy: cassettes opened for recording or playback, behind typed methods.

vcrpy is used as the cassette engine (YAML format, scrubbing hooks, matching, playback
order, metadata) but not to patch HTTP libraries: the script's ``ApiClient`` is given a
transport (:mod:`._transports`) that talks to the cassette. So nothing global changes
while a cassette is in use, and a replay inside a running service (``nango-scripts dev``)
cannot capture anybody else's requests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import vcr  # type: ignore[import-untyped]
from vcr.errors import MissingMetadataError  # type: ignore[import-untyped]
from vcr.patch import PATCHER_NAMES  # type: ignore[import-untyped]
from vcr.request import Request as VcrRequest  # type: ignore[import-untyped]

from nango_scripts.testing._errors import CassetteError
from nango_scripts.testing._match import make_matchers
from nango_scripts.testing._paths import rerecord_hint
from nango_scripts.testing._scrub import Scrubber

__all__ = ["Cassette", "open_cassette"]

_RUN_KEY = "nango_scripts"
"""Cassette metadata key holding how the run was recorded (see ``RecordedRun``)."""
_DROPPED_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})


class Cassette:
    """One open vcrpy cassette."""

    def __init__(self, inner: Any, path: Path, scrubber: Scrubber) -> None:
        self._inner = inner
        self.path = path
        self._scrubber = scrubber

    def __len__(self) -> int:
        return len(self._inner)

    def record(
        self,
        request: httpx.Request,
        request_body: bytes,
        response: httpx.Response,
        content: bytes,
    ) -> None:
        """Add one exchange; vcrpy scrubs copies of both sides before keeping them."""
        headers: dict[str, list[str]] = {}
        for name, value in response.headers.multi_items():
            headers.setdefault(name, []).append(value)
        self._inner.append(
            _vcr_request(request, request_body),
            {
                "status": {"code": response.status_code, "message": response.reason_phrase},
                "headers": headers,
                "body": {"string": content},
            },
        )

    def play(self, request: httpx.Request, request_body: bytes) -> httpx.Response | None:
        """The recorded answer to ``request`` (each recorded one plays once, in order), or None."""
        wanted = _vcr_request(request, request_body)
        if not self._inner.can_play_response_for(wanted):
            return None
        recorded = self._inner.play_response(wanted)
        body = recorded["body"]["string"] or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        pairs = [
            (str(name), str(value))
            for name, values in recorded["headers"].items()
            if str(name).lower() not in _DROPPED_RESPONSE_HEADERS
            for value in (values if isinstance(values, list) else [values])
        ]
        pairs.append(("content-length", str(len(body))))
        message = recorded["status"].get("message")
        extensions = {"reason_phrase": str(message).encode("ascii", "replace")} if message else {}
        return httpx.Response(
            int(recorded["status"]["code"]),
            headers=pairs,
            stream=httpx.ByteStream(body),
            extensions=extensions,
        )

    def why_missing(self, request: httpx.Request, request_body: bytes) -> str:
        """Why ``request`` has no recorded answer, in one sentence."""
        wanted = _vcr_request(request, request_body)
        similar = self._inner.find_requests_with_most_matches(wanted)
        if not similar:
            return f"the cassette holds nothing like it ({len(self)} recorded requests)"
        recorded, _, failed = similar[0]
        if not failed:
            return (
                "it was made more often than during the recording "
                "(every matching recorded request has been played)"
            )
        shown = self._scrubber.uri(str(recorded.uri))
        differences = "; ".join(f"{name}: {message}" for name, message in failed)
        return f"the closest recorded request, {recorded.method} {shown}, differs in {differences}"

    def scrubbed_url(self, url: str) -> str:
        return self._scrubber.uri(url)

    def recorded_run(self) -> dict[str, Any] | None:
        """What the recording stored about its run, or None (a cassette made elsewhere)."""
        try:
            found = self._inner.get_metadata(_RUN_KEY, None)
        except MissingMetadataError:
            return None
        return dict(found) if isinstance(found, dict) else None

    def store_recorded_run(self, run: dict[str, Any]) -> None:
        self._inner.get_metadata(_RUN_KEY, run)


def _vcr_request(request: httpx.Request, body: bytes) -> Any:
    return VcrRequest(request.method, str(request.url), body, request.headers)


@contextmanager
def open_cassette(path: Path, *, record: bool, scrubber: Scrubber) -> Iterator[Cassette]:
    """``record=True``: a new cassette, written at the end (record mode ``all``).

    ``record=False``: an existing cassette, played back (record mode ``none``); a file that
    cannot be read is a :class:`CassetteError`.
    """
    recorder = vcr.VCR(
        serializer="yaml",
        record_mode="all" if record else "none",
        match_on=("method", "path", "query", "body"),
        decode_compressed_response=True,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        before_save_interaction=scrubber.interaction,
        record_on_exception=False,
        skip_patchers=PATCHER_NAMES,
    )
    query, body = make_matchers(scrubber.secret_query_names)
    recorder.register_matcher("query", query)
    recorder.register_matcher("body", body)
    with _quiet_vcr_logs():
        yield from _opened(recorder, path, record=record, scrubber=scrubber)


@contextmanager
def _quiet_vcr_logs() -> Iterator[None]:
    """vcrpy logs requests at INFO and DEBUG before they are scrubbed: keep those quiet."""
    logger = logging.getLogger("vcr")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _opened(recorder: Any, path: Path, *, record: bool, scrubber: Scrubber) -> Iterator[Cassette]:
    context = recorder.use_cassette(str(path), allow_playback_repeats=False)
    try:
        inner = context.__enter__()
    except Exception as exc:
        raise CassetteError(
            f"cannot read the cassette {path}: {type(exc).__name__}: {exc}",
            hint=rerecord_hint(path.stem),
        ) from exc
    if not record and not inner.rewound:
        context.__exit__(None, None, None)
        raise CassetteError(
            f"cannot read the cassette {path}: it is empty or not a vcrpy cassette.",
            hint=rerecord_hint(path.stem),
        )
    try:
        yield Cassette(inner, path, scrubber)
    except BaseException as exc:
        context.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        context.__exit__(None, None, None)
