"""The records store (SPEC 4) on SQLite and PostgreSQL: every test runs on both backends."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, Field, field_serializer

from nango_scripts.errors import RecordQueryError, StoreError
from nango_scripts.store import (
    BatchResult,
    RecordPage,
    RecordQuery,
    RecordScope,
    SqlRecordStore,
    blocking,
)

pytestmark = pytest.mark.anyio

SCOPE = RecordScope("prod", "github", "c1")
METADATA_KEYS = {"first_seen_at", "last_modified_at", "last_action", "deleted_at", "cursor"}


class Issue(BaseModel):
    id: str
    title: str = ""
    labels: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


class Comment(BaseModel):
    id: str
    body: str = ""


def issues(*ids: str, **fields: Any) -> list[Issue]:
    return [Issue(id=i, **fields) for i in ids]


def meta(record: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = record["_nango_metadata"]
    return value


def content(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "_nango_metadata"}


def ids_of(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


def outcome(result: BatchResult) -> dict[str, list[str]]:
    """The non-empty lists of a BatchResult, to compare in one assert."""
    return {k: v for k, v in vars(result).items() if v}


async def read_all(
    store: SqlRecordStore,
    scope: RecordScope = SCOPE,
    model: str = "Issue",
    *,
    limit: int = 1000,
    **query: Any,
) -> list[dict[str, Any]]:
    """Every record of a delta read, following next_cursor to the end."""
    records: list[dict[str, Any]] = []
    cursor = query.pop("cursor", None)
    while True:
        page = store.list_records(RecordQuery(scope, model, limit=limit, cursor=cursor, **query))
        records.extend(page.records)
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


async def by_id(
    store: SqlRecordStore, scope: RecordScope = SCOPE, model: str = "Issue"
) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in await read_all(store, scope, model)}


def last_cursor(records: list[dict[str, Any]]) -> str:
    cursor: str = meta(records[-1])["cursor"]
    return cursor


# -- saving ----------------------------------------------------------------------------------


async def test_a_first_save_adds_every_record_with_its_metadata(backend: SqlRecordStore) -> None:
    saved = [
        Issue(id="a", title="A", labels=["x"], extra={"n": 1}),
        Issue(id="b", title="Zoë 🚀"),
        Issue(id="c"),
    ]
    result = backend.save_records(SCOPE, "Issue", saved)
    assert outcome(result) == {"added": ["a", "b", "c"]}

    page = backend.list_records(RecordQuery(SCOPE, "Issue"))
    assert isinstance(page, RecordPage)
    assert page.next_cursor is None
    assert [content(r) for r in page.records] == [i.model_dump(mode="json") for i in saved]
    for record in page.records:
        metadata = meta(record)
        assert set(metadata) == METADATA_KEYS
        assert metadata["last_action"] == "ADDED"
        assert metadata["deleted_at"] is None
        assert metadata["first_seen_at"] == metadata["last_modified_at"]
        assert metadata["last_modified_at"].endswith("Z")
        assert isinstance(metadata["cursor"], str)
    assert len({meta(r)["cursor"] for r in page.records}) == 3
    assert backend.count_records(SCOPE, "Issue") == {"live": 3, "deleted": 0}


async def test_saving_the_same_content_again_changes_nothing(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", title="t"))
    before = await read_all(backend)

    result = backend.save_records(SCOPE, "Issue", issues("a", "b", title="t"))
    assert outcome(result) == {"unchanged": ["a", "b"]}
    # No new position: nothing comes after the last record already read...
    after = backend.list_records(RecordQuery(SCOPE, "Issue", cursor=last_cursor(before)))
    assert after == RecordPage([], None)
    # ...and the records are exactly as they were, metadata included.
    assert await read_all(backend) == before


async def test_the_key_order_of_a_dict_field_is_not_a_change(backend: SqlRecordStore) -> None:
    first = Issue(id="a", extra={"x": 1, "y": {"p": 1, "q": [1, 2]}, "z": None})
    second = Issue(id="a", extra={"z": None, "y": {"q": [1, 2], "p": 1}, "x": 1})
    backend.save_records(SCOPE, "Issue", [first])
    before = await read_all(backend)

    assert outcome(backend.save_records(SCOPE, "Issue", [second])) == {"unchanged": ["a"]}
    assert await read_all(backend) == before
    assert backend.list_records(
        RecordQuery(SCOPE, "Issue", cursor=last_cursor(before))
    ) == RecordPage([], None)


async def test_changed_content_is_an_update(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", title="old"))
    first = await by_id(backend)
    cursor = last_cursor(list(first.values()))

    result = backend.save_records(
        SCOPE, "Issue", [Issue(id="a", title="new"), *issues("b", title="old")]
    )
    assert outcome(result) == {"updated": ["a"], "unchanged": ["b"]}

    later = backend.list_records(RecordQuery(SCOPE, "Issue", cursor=cursor))
    assert ids_of(later.records) == ["a"]
    record = later.records[0]
    assert content(record) == Issue(id="a", title="new").model_dump(mode="json")
    assert meta(record)["last_action"] == "UPDATED"
    assert meta(record)["first_seen_at"] == meta(first["a"])["first_seen_at"]
    assert meta(record)["last_modified_at"] > meta(first["a"])["last_modified_at"]
    assert meta(record)["deleted_at"] is None


async def test_duplicate_ids_in_one_batch_last_one_wins_counted_once(
    backend: SqlRecordStore,
) -> None:
    batch = [Issue(id="a", title="1"), Issue(id="b"), Issue(id="a", title="2")]
    assert outcome(backend.save_records(SCOPE, "Issue", batch)) == {"added": ["a", "b"]}
    records = await read_all(backend)
    assert sorted(ids_of(records)) == ["a", "b"]
    assert (await by_id(backend))["a"]["title"] == "2"

    batch = [Issue(id="a", title="3"), Issue(id="a", title="4")]
    assert outcome(backend.save_records(SCOPE, "Issue", batch)) == {"updated": ["a"]}
    batch = [Issue(id="a", title="5"), Issue(id="a", title="4")]
    assert outcome(backend.save_records(SCOPE, "Issue", batch)) == {"unchanged": ["a"]}
    assert (await by_id(backend))["a"]["title"] == "4"
    assert backend.count_records(SCOPE, "Issue") == {"live": 2, "deleted": 0}


async def test_a_large_batch_is_written_in_chunks_with_the_same_results(
    backend: SqlRecordStore,
) -> None:
    """A batch of more records than one statement takes (500 rows an upsert, 500 ids a
    lookup): duplicates across chunks, mixed outcomes, the right counts."""
    first = [Issue(id=str(i), title="v1") for i in range(700)]
    first.append(Issue(id="5", title="last wins"))  # a duplicate of the first chunk's id
    saved = backend.save_records(SCOPE, "Issue", first)
    assert (len(saved.added), saved.updated, saved.unchanged) == (700, [], [])
    assert saved.added == [str(i) for i in range(700)]
    assert (await by_id(backend))["5"]["title"] == "last wins"
    backend.delete_records(SCOPE, "Issue", ["650"])

    again = [Issue(id=str(i), title="v2" if i % 100 == 7 else "v1") for i in range(900)]
    again[5] = Issue(id="5", title="last wins")
    saved = backend.save_records(SCOPE, "Issue", again)
    assert saved.updated == [str(i) for i in range(7, 700, 100)]
    assert saved.added == ["650", *(str(i) for i in range(700, 900))]
    assert len(saved.unchanged) == 900 - len(saved.updated) - len(saved.added)
    assert backend.count_records(SCOPE, "Issue") == {"live": 900, "deleted": 0}
    assert len(await read_all(backend)) == 900


class Fragile(BaseModel):
    id: str
    title: str = ""

    @field_serializer("title")
    def _title(self, value: str) -> str:
        if value == "boom":
            raise ValueError("cannot serialize this title")
        return value


async def test_a_batch_that_fails_in_a_later_chunk_stores_nothing(
    backend: SqlRecordStore,
) -> None:
    batch = [Fragile(id=str(i)) for i in range(800)]
    batch[700] = Fragile(id="700", title="boom")
    with pytest.raises(Exception, match="cannot serialize this title"):
        backend.save_records(SCOPE, "Fragile", batch)
    assert backend.count_records(SCOPE, "Fragile") == {"live": 0, "deleted": 0}
    # the store still works after the rollback
    saved = backend.save_records(SCOPE, "Fragile", batch[:10])
    assert len(saved.added) == 10


async def test_an_empty_batch_does_nothing(backend: SqlRecordStore) -> None:
    assert outcome(backend.save_records(SCOPE, "Issue", [])) == {}
    assert outcome(backend.update_records(SCOPE, "Issue", [])) == {}
    assert outcome(backend.delete_records(SCOPE, "Issue", [])) == {}
    assert backend.list_records(RecordQuery(SCOPE, "Issue")) == RecordPage([], None)


# -- deleting --------------------------------------------------------------------------------


async def test_a_delete_keeps_the_data_and_marks_the_record(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", title="t", labels=["l"]))
    before = await by_id(backend)
    cursor = last_cursor(list(before.values()))

    result = backend.delete_records(SCOPE, "Issue", ["a"])
    assert outcome(result) == {"deleted": ["a"]}

    page = backend.list_records(RecordQuery(SCOPE, "Issue", cursor=cursor))
    assert ids_of(page.records) == ["a"]
    record = page.records[0]
    assert content(record) == content(before["a"])  # data kept
    assert meta(record)["last_action"] == "DELETED"
    assert meta(record)["deleted_at"] is not None
    assert meta(record)["deleted_at"] > meta(before["a"])["last_modified_at"]
    assert meta(record)["last_modified_at"] > meta(before["a"])["last_modified_at"]
    assert meta(record)["first_seen_at"] == meta(before["a"])["first_seen_at"]
    assert backend.count_records(SCOPE, "Issue") == {"live": 1, "deleted": 1}
    assert ids_of(backend.get_records_by_ids(SCOPE, "Issue", ["a", "b"])) == ["b"]


async def test_deleting_twice_or_an_unknown_id(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    assert outcome(backend.delete_records(SCOPE, "Issue", ["a", "nope", "a"])) == {
        "deleted": ["a"],
        "unknown": ["nope"],
    }
    after_first = await read_all(backend)

    assert outcome(backend.delete_records(SCOPE, "Issue", ["a"])) == {"unchanged": ["a"]}
    assert await read_all(backend) == after_first  # no new position, same deleted_at
    assert backend.list_records(RecordQuery(SCOPE, "Issue", cursor=last_cursor(after_first))) == (
        RecordPage([], None)
    )
    assert "nope" not in ids_of(after_first)
    assert backend.count_records(SCOPE, "Issue") == {"live": 1, "deleted": 1}


async def test_a_delete_of_unknown_ids_creates_nothing(backend: SqlRecordStore) -> None:
    result = backend.delete_records(SCOPE, "Issue", ["x", "y"])
    assert outcome(result) == {"unknown": ["x", "y"]}
    assert backend.list_records(RecordQuery(SCOPE, "Issue")) == RecordPage([], None)
    assert backend.count_records(SCOPE, "Issue") == {"live": 0, "deleted": 0}
    assert backend.get_records_by_ids(SCOPE, "Issue", ["x"]) == []


async def test_a_deleted_record_saved_again_is_added_again(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", title="t"))
    backend.delete_records(SCOPE, "Issue", ["a"])
    deleted = await read_all(backend)

    result = backend.save_records(SCOPE, "Issue", issues("a", title="t"))
    assert outcome(result) == {"added": ["a"]}
    page = backend.list_records(RecordQuery(SCOPE, "Issue", cursor=last_cursor(deleted)))
    assert ids_of(page.records) == ["a"]
    assert meta(page.records[0])["last_action"] == "ADDED"
    assert meta(page.records[0])["deleted_at"] is None
    assert meta(page.records[0])["last_modified_at"] > meta(deleted[0])["last_modified_at"]
    assert backend.get_records_by_ids(SCOPE, "Issue", ["a"]) == [
        Issue(id="a", title="t").model_dump(mode="json")
    ]
    assert backend.count_records(SCOPE, "Issue") == {"live": 1, "deleted": 0}


async def test_one_batch_of_new_unchanged_changed_and_deleted_records(
    backend: SqlRecordStore,
) -> None:
    """Every outcome in one batch, in its order: the insert-first path (a scope whose
    last save was mostly new) must find the stored ones among the new."""
    backend.save_records(SCOPE, "Issue", issues("same", "edit", "gone", title="t"))
    backend.delete_records(SCOPE, "Issue", ["gone"])
    stored = await read_all(backend)
    before = {r["id"]: r for r in stored}
    batch = [
        Issue(id="new1"),
        Issue(id="same", title="t"),
        Issue(id="edit", title="edited"),
        Issue(id="gone", title="t"),
        Issue(id="new2"),
    ]

    result = backend.save_records(SCOPE, "Issue", batch)

    assert outcome(result) == {
        "added": ["new1", "gone", "new2"],
        "updated": ["edit"],
        "unchanged": ["same"],
    }
    # A delta read gives the batch's changes in the batch's order, stored or new.
    changes = await read_all(backend, cursor=last_cursor(stored))
    assert ids_of(changes) == ["new1", "edit", "gone", "new2"]
    after = await by_id(backend)
    assert meta(after["same"]) == meta(before["same"])
    assert after["edit"]["title"] == "edited"
    assert meta(after["gone"])["deleted_at"] is None
    assert meta(after["gone"])["first_seen_at"] == meta(before["gone"])["first_seen_at"]
    assert backend.count_records(SCOPE, "Issue") == {"live": 5, "deleted": 0}


async def test_an_id_with_a_nul_character(backend: SqlRecordStore) -> None:
    """SQLite's JSON functions cut a string at U+0000: such an id must still be found
    again (else its change would be reported added and never written). PostgreSQL text
    cannot hold U+0000: the batch is refused with a StoreError and nothing is stored."""
    rid = "a\x00b"
    if backend.dialect == "postgres":
        with pytest.raises(StoreError):
            backend.save_records(SCOPE, "Issue", [Issue(id="ok"), Issue(id=rid)])
        assert backend.count_records(SCOPE, "Issue") == {"live": 0, "deleted": 0}
        return
    backend.save_records(SCOPE, "Issue", [Issue(id="seed")])
    first = backend.save_records(SCOPE, "Issue", [Issue(id="n1"), Issue(id=rid, title="1")])
    assert outcome(first) == {"added": ["n1", rid]}

    second = backend.save_records(
        SCOPE, "Issue", [Issue(id="n2"), Issue(id="n3"), Issue(id=rid, title="2")]
    )
    assert outcome(second) == {"added": ["n2", "n3"], "updated": [rid]}
    third = backend.save_records(SCOPE, "Issue", [Issue(id=rid, title="2")])
    assert outcome(third) == {"unchanged": [rid]}
    assert [r["title"] for r in await read_all(backend) if r["id"] == rid] == ["2"]


async def test_a_batch_keeps_its_order_whatever_the_join_plan(backend: SqlRecordStore) -> None:
    """The lookup's join may return rows in any order (on PostgreSQL a hash join does):
    the changes still take seqs, so delta-read places, in the batch's order."""
    backend.save_records(SCOPE, "Issue", [Issue(id=f"r{i:04d}") for i in range(2000)])
    stored = await read_all(backend, limit=10_000)
    if backend.dialect == "postgres":
        backend._w.execute("ANALYZE records")
        backend._w.execute("SET enable_nestloop = off")
        backend._w.execute("SET enable_mergejoin = off")
    batch = ["r1500", "new1", "r0005", "new0", "r0999"]

    backend.save_records(SCOPE, "Issue", [Issue(id=i, title="x") for i in batch])

    assert ids_of(await read_all(backend, cursor=last_cursor(stored))) == batch


# -- partial updates -------------------------------------------------------------------------


async def test_a_batch_update_deep_merges_dicts_and_replaces_lists(
    backend: SqlRecordStore,
) -> None:
    original = Issue(
        id="a", title="t", labels=["p", "q"], extra={"n": {"x": 1, "y": 2}, "keep": True}
    )
    backend.save_records(SCOPE, "Issue", [original, Issue(id="b")])
    before = await by_id(backend)

    patch = {"id": "a", "extra": {"n": {"y": 3, "z": [4]}}, "labels": ["r"]}
    assert outcome(backend.update_records(SCOPE, "Issue", [patch])) == {"updated": ["a"]}

    [stored] = backend.get_records_by_ids(SCOPE, "Issue", ["a"])
    assert stored == {
        "id": "a",
        "title": "t",
        "labels": ["r"],
        "extra": {"n": {"x": 1, "y": 3, "z": [4]}, "keep": True},
    }
    page = backend.list_records(
        RecordQuery(SCOPE, "Issue", cursor=last_cursor(list(before.values())))
    )
    assert ids_of(page.records) == ["a"]
    assert meta(page.records[0])["last_action"] == "UPDATED"
    assert meta(page.records[0])["first_seen_at"] == meta(before["a"])["first_seen_at"]


async def test_several_patches_of_one_record_in_a_batch_count_once(
    backend: SqlRecordStore,
) -> None:
    backend.save_records(SCOPE, "Issue", issues("a"))
    patches: list[dict[str, Any]] = [{"id": "a", "title": "t"}, {"id": "a", "labels": ["l"]}]
    assert outcome(backend.update_records(SCOPE, "Issue", patches)) == {"updated": ["a"]}
    [stored] = backend.get_records_by_ids(SCOPE, "Issue", ["a"])
    assert (stored["title"], stored["labels"]) == ("t", ["l"])


async def test_an_update_never_invents_a_record(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a"))
    result = backend.update_records(SCOPE, "Issue", [{"id": "nope", "title": "x"}])
    assert outcome(result) == {"unknown": ["nope"]}
    assert ids_of(await read_all(backend)) == ["a"]
    assert backend.get_records_by_ids(SCOPE, "Issue", ["nope"]) == []
    # Nor in a scope that has no records at all.
    other = RecordScope("prod", "github", "empty")
    assert outcome(backend.update_records(other, "Issue", [{"id": "a"}])) == {"unknown": ["a"]}
    assert backend.count_records(other, "Issue") == {"live": 0, "deleted": 0}


async def test_an_update_that_changes_nothing_is_unchanged(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", [Issue(id="a", title="t", extra={"n": {"x": 1}})])
    before = await read_all(backend)
    patches: list[dict[str, Any]] = [
        {"id": "a", "title": "t"},
        {"id": "a", "extra": {"n": {"x": 1}}},
        {"id": "a"},
    ]
    assert outcome(backend.update_records(SCOPE, "Issue", patches)) == {"unchanged": ["a"]}
    assert await read_all(backend) == before


async def test_an_update_of_a_deleted_record_is_unknown(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", title="t"))
    backend.delete_records(SCOPE, "Issue", ["a"])
    before = await read_all(backend)
    result = backend.update_records(SCOPE, "Issue", [{"id": "a", "title": "x"}])
    assert outcome(result) == {"unknown": ["a"]}
    assert await read_all(backend) == before
    assert meta(before[0])["last_action"] == "DELETED"
    assert before[0]["title"] == "t"


# -- reading by id ---------------------------------------------------------------------------


async def test_records_by_id_are_the_live_ones_in_the_order_asked(
    backend: SqlRecordStore,
) -> None:
    backend.save_records(SCOPE, "Issue", [Issue(id=i, title=i.upper()) for i in "abcd"])
    backend.delete_records(SCOPE, "Issue", ["c"])
    found = backend.get_records_by_ids(SCOPE, "Issue", ["d", "a", "c", "zz", "b"])
    assert found == [Issue(id=i, title=i.upper()).model_dump(mode="json") for i in "dab"]
    assert backend.get_records_by_ids(SCOPE, "Issue", []) == []
    assert backend.get_records_by_ids(SCOPE, "Comment", ["a"]) == []


async def test_records_by_id_in_big_batches(backend: SqlRecordStore) -> None:
    ids = [f"r{i:04}" for i in range(1200)]
    result = backend.save_records(SCOPE, "Issue", issues(*ids))
    assert len(result.added) == 1200
    wanted = list(reversed(ids))
    assert ids_of(backend.get_records_by_ids(SCOPE, "Issue", wanted)) == wanted
    assert len((backend.delete_records(SCOPE, "Issue", ids[:700])).deleted) == 700
    assert backend.count_records(SCOPE, "Issue") == {"live": 500, "deleted": 700}


# -- track_deletes ---------------------------------------------------------------------------


async def test_a_successful_run_deletes_what_it_did_not_save(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", "c", "d"))
    backend.delete_records(SCOPE, "Issue", ["d"])
    backend.save_records(SCOPE, "Comment", [Comment(id="x"), Comment(id="y")])

    run_id = backend.start_run(SCOPE, "issues", track_deletes=["Issue"])
    assert isinstance(run_id, str)
    backend.save_records(SCOPE, "Issue", issues("a"), run_id=run_id)  # unchanged: seen
    backend.save_records(SCOPE, "Issue", [Issue(id="b", title="new")], run_id=run_id)
    backend.save_records(SCOPE, "Issue", issues("e"), run_id=run_id)
    backend.save_records(SCOPE, "Comment", [Comment(id="x")], run_id=run_id)
    # Until the run ends, nothing is deleted.
    assert backend.count_records(SCOPE, "Issue") == {"live": 4, "deleted": 1}

    assert backend.finish_run(run_id, success=True) == {"Issue": 1}
    state = await by_id(backend)
    assert {i: meta(r)["last_action"] for i, r in state.items()} == {
        "a": "ADDED",
        "b": "UPDATED",
        "c": "DELETED",
        "d": "DELETED",
        "e": "ADDED",
    }
    assert state["c"]["id"] == "c"  # soft delete: data kept
    # A model not tracked is never deleted, saved in the run or not.
    assert backend.count_records(SCOPE, "Comment") == {"live": 2, "deleted": 0}


async def test_a_failed_run_deletes_nothing(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", "c"))
    run_id = backend.start_run(SCOPE, "issues", track_deletes=["Issue"])
    result = backend.save_records(SCOPE, "Issue", issues("a", "z"), run_id=run_id)
    assert outcome(result) == {"added": ["z"], "unchanged": ["a"]}
    assert backend.finish_run(run_id, success=False) == {}
    # Records saved before the failure are kept; none deleted.
    assert backend.count_records(SCOPE, "Issue") == {"live": 4, "deleted": 0}


async def test_a_run_that_saves_nothing_deletes_every_tracked_record(
    backend: SqlRecordStore,
) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    backend.save_records(SCOPE, "Comment", [Comment(id="x")])
    run_id = backend.start_run(SCOPE, "issues", track_deletes=["Issue", "Comment"])
    assert backend.finish_run(run_id, success=True) == {"Comment": 1, "Issue": 2}
    assert backend.count_records(SCOPE, "Issue") == {"live": 0, "deleted": 2}


async def test_a_run_without_track_deletes_deletes_nothing(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    run_id = backend.start_run(SCOPE, "issues")
    backend.save_records(SCOPE, "Issue", issues("a"), run_id=run_id)
    assert backend.finish_run(run_id, success=True) == {}
    assert backend.count_records(SCOPE, "Issue") == {"live": 2, "deleted": 0}


async def test_track_deletes_stays_within_the_runs_connection(backend: SqlRecordStore) -> None:
    other = RecordScope("prod", "github", "c2")
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    backend.save_records(other, "Issue", issues("a", "b"))
    run_id = backend.start_run(SCOPE, "issues", track_deletes=["Issue"])
    backend.save_records(SCOPE, "Issue", issues("a"), run_id=run_id)
    assert backend.finish_run(run_id, success=True) == {"Issue": 1}
    assert backend.count_records(SCOPE, "Issue") == {"live": 1, "deleted": 1}
    assert backend.count_records(other, "Issue") == {"live": 2, "deleted": 0}


# -- delta reads -----------------------------------------------------------------------------


async def test_a_delta_read_is_ascending_by_modification(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", "c", "d"))
    backend.update_records(SCOPE, "Issue", [{"id": "a", "title": "x"}])
    backend.delete_records(SCOPE, "Issue", ["b"])
    backend.save_records(SCOPE, "Issue", issues("e"))
    backend.save_records(SCOPE, "Issue", [Issue(id="c", title="y")])

    records = await read_all(backend)
    assert ids_of(records) == ["d", "a", "b", "e", "c"]
    stamps = [meta(r)["last_modified_at"] for r in records]
    assert stamps == sorted(stamps)
    assert [meta(r)["last_action"] for r in records] == [
        "ADDED",
        "UPDATED",
        "DELETED",
        "ADDED",
        "UPDATED",
    ]


async def test_modified_after_is_inclusive(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    backend.save_records(SCOPE, "Issue", issues("c", "d"))
    backend.update_records(SCOPE, "Issue", [{"id": "a", "title": "x"}])
    records = await by_id(backend)
    stamp = meta(records["c"])["last_modified_at"]
    assert meta(records["b"])["last_modified_at"] < stamp

    page = backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=stamp))
    assert ids_of(page.records) == ["c", "d", "a"]
    # The same moment as a datetime, and written with another offset.
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert ids_of(
        (backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=moment))).records
    ) == [
        "c",
        "d",
        "a",
    ]
    shifted = moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert ids_of(
        (backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=shifted))).records
    ) == [
        "c",
        "d",
        "a",
    ]
    later = moment + timedelta(microseconds=1)
    assert ids_of(
        (backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=later))).records
    ) == ["a"]
    future = datetime.now(UTC) + timedelta(days=1)
    assert backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=future)) == RecordPage(
        [], None
    )
    past = "2000-01-01T00:00:00Z"
    assert (
        len((backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=past))).records) == 4
    )


async def test_modified_after_works_with_a_cursor(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    backend.save_records(SCOPE, "Issue", issues("c", "d", "e"))
    stamp = meta((await by_id(backend))["c"])["last_modified_at"]
    first = backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=stamp, limit=2))
    assert ids_of(first.records) == ["c", "d"]
    assert first.next_cursor is not None
    rest = backend.list_records(
        RecordQuery(SCOPE, "Issue", modified_after=stamp, limit=2, cursor=first.next_cursor)
    )
    assert rest == RecordPage(rest.records, None)
    assert ids_of(rest.records) == ["e"]


async def test_modified_after_before_the_year_1000_returns_everything(
    backend: SqlRecordStore,
) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    page = backend.list_records(RecordQuery(SCOPE, "Issue", modified_after="0999-01-01T00:00:00Z"))
    assert ids_of(page.records) == ["a", "b"]


@pytest.mark.parametrize(
    "value", ["yesterday", "2024-13-01", "", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00-05:00"]
)
async def test_a_bad_modified_after_is_a_query_error(backend: SqlRecordStore, value: str) -> None:
    backend.save_records(SCOPE, "Issue", issues("a"))
    with pytest.raises(RecordQueryError):
        backend.list_records(RecordQuery(SCOPE, "Issue", modified_after=value))


async def test_limit_defaults_to_100_and_pages_cover_everything_once(
    backend: SqlRecordStore,
) -> None:
    ids = [f"r{i:03}" for i in range(250)]
    backend.save_records(SCOPE, "Issue", issues(*ids))

    default = backend.list_records(RecordQuery(SCOPE, "Issue"))
    assert len(default.records) == 100
    assert default.next_cursor is not None

    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    for _ in range(10):
        page = backend.list_records(RecordQuery(SCOPE, "Issue", limit=100, cursor=cursor))
        seen.extend(ids_of(page.records))
        sizes.append(len(page.records))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None
    assert sizes == [100, 100, 50]
    assert seen == ids  # each exactly once, in order
    assert ids_of((backend.list_records(RecordQuery(SCOPE, "Issue", limit=1))).records) == ["r000"]
    assert len((backend.list_records(RecordQuery(SCOPE, "Issue", limit=10_000))).records) == 250


@pytest.mark.parametrize("limit", [0, -1, 10_001, "5", True, False, 2.5, None])
async def test_a_limit_out_of_range_is_a_query_error(backend: SqlRecordStore, limit: Any) -> None:
    backend.save_records(SCOPE, "Issue", issues("a"))
    with pytest.raises(RecordQueryError, match="limit must be a whole number from 1 to 10000"):
        backend.list_records(RecordQuery(SCOPE, "Issue", limit=limit))


async def test_filter_by_last_action(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("added", "updated", "deleted"))
    backend.update_records(SCOPE, "Issue", [{"id": "updated", "title": "x"}])
    backend.delete_records(SCOPE, "Issue", ["deleted"])

    async def filtered(value: Any) -> list[str]:
        return ids_of(await read_all(backend, filter=value))

    assert await filtered("added") == ["added"]
    assert await filtered("updated") == ["updated"]
    assert await filtered("deleted") == ["deleted"]
    assert await filtered("added,deleted") == ["added", "deleted"]
    assert await filtered(" Added , updated ") == ["added", "updated"]
    assert await filtered("DELETED,deleted") == ["deleted"]
    assert await filtered(["updated", "deleted"]) == ["updated", "deleted"]
    assert await filtered(None) == ["added", "updated", "deleted"]
    for bad in ("removed", "added,nope", "add", "added;updated"):
        with pytest.raises(RecordQueryError, match="not one of added, updated, deleted"):
            backend.list_records(RecordQuery(SCOPE, "Issue", filter=bad))


async def test_filter_and_paging_together(backend: SqlRecordStore) -> None:
    ids = [f"r{i:02}" for i in range(30)]
    backend.save_records(SCOPE, "Issue", issues(*ids))
    backend.delete_records(SCOPE, "Issue", ids[::3])
    deleted = await read_all(backend, filter="deleted", limit=4)
    assert ids_of(deleted) == ids[::3]
    added = await read_all(backend, filter="added", limit=4)
    assert ids_of(added) == [i for i in ids if i not in ids[::3]]


async def test_ids_narrow_a_delta_read(backend: SqlRecordStore) -> None:
    ids = [f"r{i:03}" for i in range(150)]
    backend.save_records(SCOPE, "Issue", issues(*ids))
    backend.delete_records(SCOPE, "Issue", ["r005"])

    page = backend.list_records(RecordQuery(SCOPE, "Issue", ids=["r007", "r005", "zz", "r003"]))
    assert ids_of(page.records) == ["r003", "r007", "r005"]  # by modification, deleted too
    assert page.next_cursor is None

    hundred = await read_all(backend, ids=ids[:100], limit=30)
    assert sorted(ids_of(hundred)) == ids[:100]
    assert len(hundred) == 100

    assert backend.list_records(RecordQuery(SCOPE, "Issue", ids=[])) == RecordPage([], None)
    with pytest.raises(RecordQueryError, match="at most 100"):
        backend.list_records(RecordQuery(SCOPE, "Issue", ids=ids[:101]))


def _pack(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _unpack(cursor: str) -> list[str]:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")


async def test_a_bad_cursor_is_refused_with_a_clear_message(backend: SqlRecordStore) -> None:
    other_connection = RecordScope("prod", "github", "c2")
    for scope in (SCOPE, other_connection):
        backend.save_records(scope, "Issue", issues(*(f"r{i}" for i in range(5))))
    backend.save_records(SCOPE, "Comment", [Comment(id="r0"), Comment(id="r1")])

    good = (backend.list_records(RecordQuery(SCOPE, "Issue", limit=2))).next_cursor
    assert good is not None
    version, seq, mac = _unpack(good)
    foreign = [
        (backend.list_records(RecordQuery(other_connection, "Issue", limit=2))).next_cursor,
        (backend.list_records(RecordQuery(SCOPE, "Comment", limit=1))).next_cursor,
    ]
    bad_cursors = [
        "garbage",
        "not a cursor at all!",
        "ümlaut",
        good[:-4],  # truncated
        good[: len(good) // 2],
        good + "x",
        _pack(f"{version}:{int(seq) + 1}:{mac}"),  # edited position
        _pack(f"{version}:0:{mac}"),
        _pack(f"{version}:-1:{mac}"),
        _pack(f"9:{seq}:{mac}"),
        _pack(f"{version}:{seq}:AAAAAAAAAAAAAAAA"),
        *foreign,
    ]
    for bad in bad_cursors:
        assert bad is not None
        with pytest.raises(RecordQueryError, match="Invalid cursor") as caught:
            backend.list_records(RecordQuery(SCOPE, "Issue", cursor=bad))
        assert "next_cursor" in str(caught.value)
        with pytest.raises(RecordQueryError, match="Invalid cursor"):
            backend.prune_records(SCOPE, "Issue", until_cursor=bad)
    # The good one still works, and nothing was pruned by the refused calls.
    rest = backend.list_records(RecordQuery(SCOPE, "Issue", cursor=good))
    assert ids_of(rest.records) == ["r2", "r3", "r4"]
    assert all(r["title"] == "" for r in await read_all(backend))


async def test_a_cursor_of_an_unknown_scope_is_refused(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b"))
    cursor = last_cursor(await read_all(backend))
    with pytest.raises(RecordQueryError, match="Invalid cursor"):
        backend.list_records(
            RecordQuery(RecordScope("prod", "github", "nobody"), "Issue", cursor=cursor)
        )


async def test_paging_stays_exact_while_records_change(backend: SqlRecordStore) -> None:
    """Deterministic interleaving: writes between pages never make a reader skip."""
    ids = [f"r{i:02}" for i in range(30)]
    backend.save_records(SCOPE, "Issue", issues(*ids, title="v0"))
    reads: list[dict[str, Any]] = []

    async def next_page(cursor: str | None) -> str | None:
        page = backend.list_records(RecordQuery(SCOPE, "Issue", limit=10, cursor=cursor))
        reads.extend(page.records)
        return page.next_cursor or (last_cursor(page.records) if page.records else cursor)

    cursor = await next_page(None)  # r00..r09
    assert ids_of(reads) == ids[:10]
    backend.save_records(SCOPE, "Issue", [Issue(id="r03", title="v1")])  # read already
    backend.save_records(SCOPE, "Issue", [Issue(id="r25", title="v1")])  # not read yet
    backend.delete_records(SCOPE, "Issue", ["r05", "r15"])
    cursor = await next_page(cursor)
    backend.save_records(SCOPE, "Issue", issues("r05", title="v0"))  # undeleted
    backend.update_records(SCOPE, "Issue", [{"id": "r12", "title": "v2"}])  # read already
    backend.save_records(SCOPE, "Issue", issues("new1", title="v0"))
    cursor = await next_page(cursor)
    backend.delete_records(SCOPE, "Issue", ["r03"])
    backend.save_records(SCOPE, "Issue", [Issue(id="r25", title="v2")])
    for _ in range(10):
        page = backend.list_records(RecordQuery(SCOPE, "Issue", limit=10, cursor=cursor))
        reads.extend(page.records)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    final = await by_id(backend)
    latest = {r["id"]: r for r in reads}  # the last version the reader saw of each
    assert latest == final
    assert ids_of(reads).count("r03") == 3  # read, then updated, then deleted
    assert ids_of(reads).count("r12") == 2
    assert final["r25"]["title"] == "v2"
    assert meta(final["r05"])["last_action"] == "ADDED"
    assert meta(final["r15"])["last_action"] == "DELETED"
    assert meta(final["r03"])["last_action"] == "DELETED"
    # The cursors the reader saw always go forward.
    positions = [int(_unpack(meta(r)["cursor"])[1]) for r in reads]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


async def test_concurrent_writers_never_make_a_reader_skip(
    backend: SqlRecordStore, records_url: str
) -> None:
    """Two stores (two writer connections) write one scope while a third store pages it."""
    pool = [f"r{i:02}" for i in range(40)]
    second = SqlRecordStore.open(records_url)
    reader = SqlRecordStore.open(records_url)
    reads: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def write(store: SqlRecordStore, name: str) -> None:
        for round_ in range(12):
            chunk = pool[(round_ * 7) % 40 :][:9]
            await blocking(
                store.save_records, SCOPE, "Issue", issues(*chunk, title=f"{name}{round_}")
            )
            if round_ % 4 == 3:
                await blocking(store.delete_records, SCOPE, "Issue", chunk[:2])

    async def read() -> None:
        cursor: str | None = None
        while True:
            finished = done.is_set()
            page = await blocking(
                reader.list_records, RecordQuery(SCOPE, "Issue", limit=5, cursor=cursor)
            )
            reads.extend(page.records)
            if page.records:
                cursor = page.next_cursor or last_cursor(page.records)
            if finished and page.next_cursor is None:
                return
            await asyncio.sleep(0)

    async def writers() -> None:
        await asyncio.gather(write(backend, "a"), write(second, "b"))
        done.set()

    try:
        await asyncio.gather(writers(), read())
        final = await by_id(reader)
    finally:
        second.close()
        reader.close()
    assert {r["id"]: r for r in reads} == final
    assert set(final) == set(pool)


# -- pruning ---------------------------------------------------------------------------------


async def test_prune_drops_data_up_to_a_cursor_and_keeps_metadata(
    backend: SqlRecordStore,
) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", "c", "d", title="t"))
    backend.delete_records(SCOPE, "Issue", ["b"])
    before = await read_all(backend)  # a, c, d, b
    assert ids_of(before) == ["a", "c", "d", "b"]
    until = meta(before[1])["cursor"]

    assert backend.prune_records(SCOPE, "Issue", until_cursor=until) == 2
    after = await read_all(backend)
    assert [content(r) for r in after] == [
        {"id": "a"},
        {"id": "c"},
        content(before[2]),
        content(before[3]),
    ]
    assert [meta(r) for r in after] == [meta(r) for r in before]
    assert backend.get_records_by_ids(SCOPE, "Issue", ["a"]) == [{"id": "a"}]
    assert backend.count_records(SCOPE, "Issue") == {"live": 3, "deleted": 1}
    assert backend.prune_records(SCOPE, "Issue", until_cursor=until) == 0

    # Saving the same content again writes it back.
    result = backend.save_records(SCOPE, "Issue", issues("a", "d", title="t"))
    assert outcome(result) == {"updated": ["a"], "unchanged": ["d"]}
    page = backend.list_records(RecordQuery(SCOPE, "Issue", cursor=last_cursor(after)))
    assert ids_of(page.records) == ["a"]
    assert content(page.records[0]) == content(before[0])
    assert meta(page.records[0])["last_action"] == "UPDATED"

    everything = last_cursor(await read_all(backend))
    assert backend.prune_records(SCOPE, "Issue", until_cursor=everything) == 3
    assert all(set(content(r)) == {"id"} for r in await read_all(backend))


# -- sync state ------------------------------------------------------------------------------


async def test_checkpoints_round_trip_per_sync(backend: SqlRecordStore) -> None:
    assert backend.get_checkpoint(SCOPE, "issues") is None
    checkpoint = {"page": 3, "since": "2024-05-01T00:00:00Z", "done": False, "name": "Zoë"}
    backend.save_checkpoint(SCOPE, "issues", checkpoint)
    assert backend.get_checkpoint(SCOPE, "issues") == checkpoint
    assert backend.get_checkpoint(SCOPE, "comments") is None
    backend.save_checkpoint(SCOPE, "issues", {"page": 4})
    assert backend.get_checkpoint(SCOPE, "issues") == {"page": 4}
    backend.clear_checkpoint(SCOPE, "issues")
    assert backend.get_checkpoint(SCOPE, "issues") is None
    backend.clear_checkpoint(SCOPE, "never-saved")
    assert backend.get_checkpoint(SCOPE, "never-saved") is None


async def test_last_sync_date_round_trips_in_utc(backend: SqlRecordStore) -> None:
    assert backend.get_last_sync_date(SCOPE, "issues") is None
    when = datetime(2024, 5, 1, 12, 34, 56, 789012, tzinfo=UTC)
    backend.set_last_sync_date(SCOPE, "issues", when)
    got = backend.get_last_sync_date(SCOPE, "issues")
    assert got == when
    assert got is not None
    assert got.utcoffset() == timedelta(0)

    paris = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    backend.set_last_sync_date(SCOPE, "issues", paris)
    got = backend.get_last_sync_date(SCOPE, "issues")
    assert got == paris
    assert got is not None
    assert got.utcoffset() == timedelta(0)

    # The checkpoint and the date live side by side without touching each other.
    backend.save_checkpoint(SCOPE, "issues", {"k": 1})
    backend.set_last_sync_date(SCOPE, "issues", None)
    assert backend.get_last_sync_date(SCOPE, "issues") is None
    assert backend.get_checkpoint(SCOPE, "issues") == {"k": 1}
    backend.set_last_sync_date(SCOPE, "issues", when)
    backend.clear_checkpoint(SCOPE, "issues")
    assert backend.get_last_sync_date(SCOPE, "issues") == when


# -- connections: counting, removing, isolation ----------------------------------------------

SCOPES = {
    "base": (SCOPE, "Issue"),
    "connection": (RecordScope("prod", "github", "c2"), "Issue"),
    "integration": (RecordScope("prod", "gitlab", "c1"), "Issue"),
    "environment": (RecordScope("dev", "github", "c1"), "Issue"),
    "model": (SCOPE, "Task"),
}


async def test_scopes_never_see_each_others_records(backend: SqlRecordStore) -> None:
    ids = ["1", "2", "3"]
    for name, (scope, model) in SCOPES.items():
        backend.save_records(scope, model, issues(*ids, title=name))
    # Writes in one scope touch only that scope.
    backend.update_records(SCOPE, "Issue", [{"id": "1", "labels": ["base-only"]}])
    backend.delete_records(SCOPE, "Issue", ["2"])
    backend.save_checkpoint(SCOPE, "s", {"owner": "base"})

    for name, (scope, model) in SCOPES.items():
        records = await read_all(backend, scope, model)
        assert sorted(ids_of(records)) == ids
        assert {r["title"] for r in records} == {name}
        by_ids = backend.get_records_by_ids(scope, model, ids)
        assert {r["title"] for r in by_ids} == {name}
        filtered = backend.list_records(
            RecordQuery(scope, model, ids=["1"], filter="added,updated")
        )
        assert [r["title"] for r in filtered.records] == [name]
        if name == "base":
            assert backend.count_records(scope, model) == {"live": 2, "deleted": 1}
            assert filtered.records[0]["labels"] == ["base-only"]
        else:
            assert backend.count_records(scope, model) == {"live": 3, "deleted": 0}
            assert {tuple(r["labels"]) for r in records} == {()}
        if scope != SCOPE:
            assert backend.get_checkpoint(scope, "s") is None

    # A cursor of one scope is refused in every other.
    cursors = {name: last_cursor(await read_all(backend, *where)) for name, where in SCOPES.items()}
    for name, cursor in cursors.items():
        for other, (scope, model) in SCOPES.items():
            if other == name:
                continue
            with pytest.raises(RecordQueryError, match="Invalid cursor"):
                backend.list_records(RecordQuery(scope, model, cursor=cursor))


async def test_counting_records(backend: SqlRecordStore) -> None:
    assert backend.count_records(SCOPE, "Issue") == {"live": 0, "deleted": 0}
    backend.save_records(SCOPE, "Issue", issues("a", "b", "c"))
    backend.delete_records(SCOPE, "Issue", ["a"])
    assert backend.count_records(SCOPE, "Issue") == {"live": 2, "deleted": 1}
    assert backend.count_records(SCOPE, "Comment") == {"live": 0, "deleted": 0}


async def test_deleting_a_connections_records_touches_only_that_connection(
    backend: SqlRecordStore,
) -> None:
    for _name, (scope, model) in SCOPES.items():
        backend.save_records(scope, model, issues("1", "2"))
        backend.save_checkpoint(scope, "s", {"model": model})
        backend.set_last_sync_date(scope, "s", datetime(2024, 1, 1, tzinfo=UTC))
    backend.delete_records(SCOPE, "Issue", ["1"])

    # base + model share the connection: 2 + 2 records, deleted ones included.
    assert backend.delete_connection_records("prod", "github", "c1") == 4
    assert backend.count_records(SCOPE, "Issue") == {"live": 0, "deleted": 0}
    assert backend.count_records(SCOPE, "Task") == {"live": 0, "deleted": 0}
    assert backend.list_records(RecordQuery(SCOPE, "Issue")) == RecordPage([], None)
    assert backend.get_checkpoint(SCOPE, "s") is None
    assert backend.get_last_sync_date(SCOPE, "s") is None
    for name in ("connection", "integration", "environment"):
        scope, model = SCOPES[name]
        assert backend.count_records(scope, model) == {"live": 2, "deleted": 0}
        assert backend.get_checkpoint(scope, "s") == {"model": model}
        assert backend.get_last_sync_date(scope, "s") == datetime(2024, 1, 1, tzinfo=UTC)

    # The connection can start over: its records come back as new.
    assert outcome(backend.save_records(SCOPE, "Issue", issues("1"))) == {"added": ["1"]}
    assert ids_of(await read_all(backend)) == ["1"]
    assert backend.delete_connection_records("prod", "github", "nobody") == 0


# -- several stores on one database ----------------------------------------------------------


async def test_saved_records_are_seen_by_a_new_store(
    backend: SqlRecordStore, records_url: str
) -> None:
    backend.save_records(SCOPE, "Issue", issues("a", "b", title="t"))
    backend.delete_records(SCOPE, "Issue", ["b"])
    backend.save_checkpoint(SCOPE, "s", {"k": 1})
    expected = await read_all(backend)
    with SqlRecordStore.open(records_url) as other:
        assert await read_all(other) == expected
        assert other.get_checkpoint(SCOPE, "s") == {"k": 1}
        # Cursors survive: the new store accepts the old one's.
        cursor = meta(expected[0])["cursor"]
        assert ids_of((other.list_records(RecordQuery(SCOPE, "Issue", cursor=cursor))).records) == [
            "b"
        ]
        # And writes of the new store are seen by the first, in order.
        other.save_records(SCOPE, "Issue", issues("c"))
    assert ids_of(await read_all(backend)) == ["a", "b", "c"]


async def test_a_store_sees_a_connection_restarted_by_another_store(
    backend: SqlRecordStore, records_url: str
) -> None:
    """The server reads while a worker (another store) removes a connection and syncs anew."""
    with SqlRecordStore.open(records_url) as server:
        backend.save_records(SCOPE, "Issue", issues("old"))
        assert ids_of(await read_all(server)) == ["old"]

        backend.delete_connection_records("prod", "github", "c1")
        backend.save_records(SCOPE, "Issue", issues("new"))
        assert ids_of(await read_all(server)) == ["new"]
        assert server.count_records(SCOPE, "Issue") == {"live": 1, "deleted": 0}
        result = server.save_records(SCOPE, "Issue", issues("more"))
        assert outcome(result) == {"added": ["more"]}
    assert ids_of(await read_all(backend)) == ["new", "more"]


async def test_async_code_calls_the_store_through_blocking(backend: SqlRecordStore) -> None:
    """Async callers (runtime, engine, server) reach each method in a worker thread."""
    result = await blocking(backend.save_records, SCOPE, "Issue", issues("a", "b"))
    assert outcome(result) == {"added": ["a", "b"]}
    updated = await blocking(backend.update_records, SCOPE, "Issue", [{"id": "a", "title": "x"}])
    assert outcome(updated) == {"updated": ["a"]}
    deleted = await blocking(backend.delete_records, SCOPE, "Issue", ["b"])
    assert outcome(deleted) == {"deleted": ["b"]}
    page = await blocking(backend.list_records, RecordQuery(SCOPE, "Issue", limit=1))
    assert ids_of(page.records) == ["a"]
    assert page.next_cursor is not None
    assert await blocking(backend.get_records_by_ids, SCOPE, "Issue", ["a", "b"]) == [
        Issue(id="a", title="x").model_dump(mode="json")
    ]
    assert await blocking(backend.count_records, SCOPE, "Issue") == {"live": 1, "deleted": 1}
    run_id = await blocking(backend.start_run, SCOPE, "s", track_deletes=["Issue"])
    assert await blocking(backend.finish_run, run_id, success=True) == {"Issue": 1}
    assert backend.dialect in {"sqlite", "postgres"}
    assert all(meta(r)["last_action"] == "DELETED" for r in await read_all(backend))


async def test_a_closed_database_is_a_store_error(backend: SqlRecordStore) -> None:
    backend.close()
    with pytest.raises(StoreError, match="records database failed"):
        await blocking(backend.save_records, SCOPE, "Issue", issues("a"))
    with pytest.raises(StoreError, match="records database failed"):
        await blocking(backend.list_records, RecordQuery(SCOPE, "Issue"))


def test_the_blocking_methods_give_a_store_error_too(backend: SqlRecordStore) -> None:
    backend.save_records(SCOPE, "Issue", issues("a"))
    backend.close()
    calls = [
        lambda: backend.save_records(SCOPE, "Issue", issues("b")),
        lambda: backend.update_records(SCOPE, "Issue", [{"id": "a", "title": "x"}]),
        lambda: backend.delete_records(SCOPE, "Issue", ["a"]),
        lambda: backend.list_records(RecordQuery(SCOPE, "Issue")),
        lambda: backend.get_records_by_ids(SCOPE, "Issue", ["a"]),
        lambda: backend.count_records(SCOPE, "Issue"),
        lambda: backend.get_last_sync_date(SCOPE, "issues"),
        lambda: backend.clear_records(SCOPE, ["Issue"]),
    ]
    for call in calls:
        with pytest.raises(StoreError, match="records database failed"):
            call()


def test_stored_data_is_canonical_json(tmp_path: Any) -> None:
    """What lands in the column is the canonical form (sorted keys), not pydantic's order."""
    url = f"sqlite:///{tmp_path}/records.db"
    with SqlRecordStore.open(url) as store:
        store.save_records(SCOPE, "Issue", [Issue(id="a", extra={"z": 1, "a": 2})])
    import sqlite3

    raw = sqlite3.connect(f"{tmp_path}/records.db")
    try:
        [(data,)] = raw.execute("SELECT data FROM records").fetchall()
    finally:
        raw.close()
    assert data == json.dumps(
        Issue(id="a", extra={"z": 1, "a": 2}).model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
    )
