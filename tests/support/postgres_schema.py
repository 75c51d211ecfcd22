"""A PostgreSQL schema of its own for one test, on the server CI names
(``NANGO_SCRIPTS_TEST_POSTGRES_URL``); the test is skipped, saying so, without it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

__all__ = ["BACKENDS", "POSTGRES_URL_ENV", "postgres_schema"]

POSTGRES_URL_ENV = "NANGO_SCRIPTS_TEST_POSTGRES_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
"""``@pytest.fixture(params=BACKENDS)``: a test on each backend."""


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose search path is a new, empty schema, dropped afterwards."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV} (see .ci/run)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in url else "?"
            yield f"{url}{separator}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
