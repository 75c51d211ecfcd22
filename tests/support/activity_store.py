"""The ``store`` fixture of the Activity store tests: an ``ActivityStore`` on SQLite and, when
CI gives one, on a PostgreSQL schema of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nango_scripts.store import ActivityStore

POSTGRES_URL_ENV = "NANGO_SCRIPTS_TEST_POSTGRES_URL"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ActivityStore]:
    if request.param == "sqlite":
        with ActivityStore.open(f"sqlite:///{tmp_path}/activity.db") as opened:
            yield opened
        return
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV} (see .ci/run)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in url else "?"
            with ActivityStore.open(f"{url}{separator}options=-csearch_path%3D{schema}") as opened:
                yield opened
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
