"""Fixtures of the webhook tests: a database on each backend, Nango's Node client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.postgres_schema import BACKENDS, postgres_schema


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/outbox.db"
        return
    with postgres_schema() as url:
        yield url
