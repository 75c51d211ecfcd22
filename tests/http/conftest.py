"""Shared pieces of the http tests: the fake API fixture, a provider for it, log/sleep spies."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.fakeapi import FakeApi

from nango_scripts.providers import ProviderConfig


@dataclass
class Spy:
    """Collects ``log`` calls and ``sleep`` delays given to an ApiClient."""

    logs: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def log(self, level: str, message: str, fields: Mapping[str, Any]) -> None:
        self.logs.append((level, message, dict(fields)))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def warnings(self) -> list[str]:
        return [message for level, message, _ in self.logs if level == "warning"]


@pytest.fixture
def spy() -> Spy:
    return Spy()


def _provider_for(api: FakeApi, **overrides: Any) -> ProviderConfig:
    return ProviderConfig(**{"name": "fake", "base_url": api.url + "/v1", **overrides})


@pytest.fixture
def provider_for() -> Any:
    """``provider_for(api, **fields)``: a ProviderConfig whose base URL is ``<api>/v1``."""
    return _provider_for


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
