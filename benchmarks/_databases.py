"""Empty databases for a benchmark run: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path


def schema_url(url: str, schema: str) -> str:
    """``url`` with its connections' ``search_path`` set to ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def postgres_schema(url: str, prefix: str = "bench") -> Iterator[str]:
    """A new schema in the database at ``url``, dropped afterwards; yields its URL."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield schema_url(url, schema)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextlib.contextmanager
def database(tmp: Path, postgres_url: str | None) -> Iterator[str]:
    """A new empty database: a SQLite file in ``tmp``, or a schema of its own."""
    if not postgres_url:
        yield f"sqlite:///{tmp}/nango.db"
        return
    with postgres_schema(postgres_url) as url:
        yield url
