"""Runtime tests run real scripts against the fake API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from support.fakeapi import FakeApi

from nango_scripts.providers import ProviderConfig
from nango_scripts.store import Connection


def make_connection(credentials: dict[str, Any] | None = None, **metadata: Any) -> Connection:
    now = datetime.now(UTC)
    return Connection("fake", "conn-1", credentials or {}, metadata, "dev", now, now)


@pytest.fixture
def provider(fake_api: FakeApi) -> ProviderConfig:
    return ProviderConfig(name="fake", base_url=fake_api.url)


@pytest.fixture
def connection() -> Connection:
    return make_connection()


def pages_of(items: list[dict[str, Any]], size: int) -> Callable[[Any], Any]:
    """A handler serving ``items`` by cursor (``?cursor=N``) in a body ``{"data", "next"}``."""

    def handler(request: Any) -> Any:
        start = int(request.query.get("cursor", "0"))
        chunk = items[start : start + size]
        nxt = start + size
        return 200, {}, {"data": chunk, "next": str(nxt) if nxt < len(items) else None}

    return handler
