"""Which hash a records database uses: XXH3-128 seeded with the database's own secret for
a new one, SHA-256 kept for one made before (its stored hashes must keep matching, or every
record would count as updated)."""

from __future__ import annotations

import pytest
import xxhash
from pydantic import BaseModel

from nango_scripts.errors import StoreError
from nango_scripts.store import RecordScope, SqlRecordStore
from nango_scripts.store._canonical import record_hash
from nango_scripts.store._sqlite import open_database

SCOPE = RecordScope("prod", "github", "c1")


class Issue(BaseModel):
    id: str
    title: str


def issues(*titles: str) -> list[Issue]:
    return [Issue(id=str(i), title=title) for i, title in enumerate(titles)]


def stored(url: str) -> tuple[dict[str, str], list[tuple[str, bytes, str]]]:
    db = open_database(url, migrations=())
    try:
        meta = {row[0]: row[1] for row in db.query("SELECT key, value FROM store_meta")}
        rows = db.query("SELECT id, hash, data FROM records ORDER BY id")
        return meta, [(r[0], bytes(r[1]), r[2]) for r in rows]
    finally:
        db.close()


def test_a_new_database_hashes_with_xxh3_seeded_with_its_own_secret(
    records_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with SqlRecordStore.open(records_url) as store:
        store.save_records(SCOPE, "Issue", issues("a", "b"))
    meta, rows = stored(records_url)
    assert meta["hash"] == "xxh3-128-keyed"
    seed = int(meta["hash_key"], 16)
    assert [digest for _, digest, _ in rows] == [
        xxhash.xxh3_128_digest(data.encode(), seed=seed) for _, _, data in rows
    ]
    # not the unseeded hash anyone could compute, and another database has another seed
    assert rows[0][1] != xxhash.xxh3_128_digest(rows[0][2].encode())
    other = f"sqlite:///{tmp_path_factory.mktemp('other')}/records.db"
    with SqlRecordStore.open(other) as store:
        store.save_records(SCOPE, "Issue", issues("a", "b"))
    other_meta, other_rows = stored(other)
    assert other_meta["hash_key"] != meta["hash_key"]
    assert other_rows[0][1] != rows[0][1]


def test_a_database_made_with_sha256_keeps_it(records_url: str) -> None:
    with SqlRecordStore.open(records_url) as store:
        store.save_records(SCOPE, "Issue", issues("a", "b", "c"))
    # Make it what an earlier version left: SHA-256 hashes and no hash name.
    db = open_database(records_url, migrations=())
    try:
        with db.transaction():
            db.execute("DELETE FROM store_meta WHERE key = 'hash'")
            for rid, data in db.query("SELECT id, data FROM records"):
                db.execute("UPDATE records SET hash = ? WHERE id = ?", (record_hash(data), rid))
    finally:
        db.close()

    for path in ("lookup", "upsert"):
        with SqlRecordStore.open(records_url, write_path=path) as store:
            same = store.save_records(SCOPE, "Issue", issues("a", "b", "c"))
            assert (same.added, same.updated, sorted(same.unchanged)) == ([], [], ["0", "1", "2"])
    with SqlRecordStore.open(records_url) as store:
        changed = store.save_records(SCOPE, "Issue", issues("a", "B", "c"))
        assert (changed.updated, sorted(changed.unchanged)) == (["1"], ["0", "2"])
    meta, rows = stored(records_url)
    assert meta["hash"] == "sha256-128"
    assert [digest for _, digest, _ in rows] == [record_hash(data) for _, _, data in rows]


def test_an_unknown_hash_name_is_a_clear_error(records_url: str) -> None:
    SqlRecordStore.open(records_url).close()
    db = open_database(records_url, migrations=())
    try:
        db.execute("UPDATE store_meta SET value = 'md7' WHERE key = 'hash'")
    finally:
        db.close()
    with pytest.raises(StoreError, match=r"record hash 'md7'.*upgrade nango-scripts"):
        SqlRecordStore.open(records_url)
