from __future__ import annotations

import pytest

# tests/fakeapi.py: a real HTTP server on 127.0.0.1 (the ``fake_api`` fixture)
pytest_plugins = ["support.fakeapi"]


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio only."""
    return "asyncio"
