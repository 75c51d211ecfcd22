"""Records read as ready JSON (``list_records_json``, what ``GET /records`` sends): the same
records as ``list_records``, on SQLite and PostgreSQL, and the splice that builds them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

from nango_scripts.errors import RecordQueryError
from nango_scripts.store import JsonRecordPage, RecordPage, RecordQuery, RecordScope, SqlRecordStore
from nango_scripts.store._record_json import record_json

pytestmark = pytest.mark.anyio

SCOPE = RecordScope("prod", "github", "c1")


class Doc(BaseModel):
    id: str
    title: str = ""
    tags: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


def docs() -> list[Doc]:
    return [
        Doc(id="plain", title="plain"),
        Doc(id="ümlaut-ß", title="Grüße, 東京, emoji 🎉", tags=["é", "ñ"]),
        Doc(
            id="nested",
            title='quotes " and \\ backslash\nnew line\ttab \u2028 \x00',
            extra={"deep": {"list": [1, 2.5, None, True, {"k": "v"}], "empty": {}}, "big": 2**70},
        ),
        Doc(id="meta", extra={"_nango_metadata": {"mine": 1}}),
        Doc(id="to-delete", title="bye"),
        Doc(id="to-update", title="v1"),
        Doc(id="to-prune", title="dropped later"),
    ]


def parsed(page: JsonRecordPage) -> list[dict[str, Any]]:
    records = []
    for raw in page.records:
        assert isinstance(raw, bytes)
        records.append(json.loads(raw.decode("utf-8")))
    return records


def fill(store: SqlRecordStore) -> None:
    """Records ADDED, UPDATED (twice), DELETED and pruned; unicode, escapes, nesting."""
    store.save_records(SCOPE, "Doc", [Doc(id="to-prune", title="dropped later")])
    pruned = store.list_records(RecordQuery(SCOPE, "Doc")).records
    store.prune_records(SCOPE, "Doc", until_cursor=pruned[0]["_nango_metadata"]["cursor"])
    store.save_records(SCOPE, "Doc", [d for d in docs() if d.id != "to-prune"])
    store.save_records(SCOPE, "Doc", [Doc(id="to-update", title="v2 ✓", extra={"a": {"b": [1]}})])
    store.delete_records(SCOPE, "Doc", ["to-delete"])
    store.save_records(SCOPE, "Doc", [Doc(id="plain", title="plain, updated")])


def both(store: SqlRecordStore, **query: Any) -> tuple[RecordPage, JsonRecordPage]:
    return (
        store.list_records(RecordQuery(SCOPE, "Doc", **query)),
        store.list_records_json(RecordQuery(SCOPE, "Doc", **query)),
    )


def test_every_page_is_the_same_as_list_records(backend: SqlRecordStore) -> None:
    fill(backend)
    seen: list[str] = []
    cursor = None
    while True:
        page, ready = both(backend, limit=2, cursor=cursor)
        assert parsed(ready) == page.records
        assert ready.next_cursor == page.next_cursor
        # keys in the same order too (but where the data has a _nango_metadata of its own)
        assert [list(r) for r in parsed(ready) if r["id"] != "meta"] == [
            list(r) for r in page.records if r["id"] != "meta"
        ]
        seen += [r["id"] for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(d.id for d in docs())
    actions = {
        r["id"]: r["_nango_metadata"]["last_action"]
        for r in backend.list_records(RecordQuery(SCOPE, "Doc", limit=100)).records
    }
    assert actions["to-delete"] == "DELETED"
    assert actions["to-update"] == "UPDATED"
    assert actions["plain"] == "UPDATED"
    assert actions["ümlaut-ß"] == "ADDED"


def test_the_records_keep_their_content_and_metadata(backend: SqlRecordStore) -> None:
    fill(backend)
    records = {
        r["id"]: r for r in parsed(backend.list_records_json(RecordQuery(SCOPE, "Doc", limit=100)))
    }
    assert records["ümlaut-ß"]["title"] == "Grüße, 東京, emoji 🎉"
    nested = records["nested"]
    assert nested["title"] == 'quotes " and \\ backslash\nnew line\ttab \u2028 \x00'
    assert nested["extra"]["deep"] == {"list": [1, 2.5, None, True, {"k": "v"}], "empty": {}}
    assert nested["extra"]["big"] == 2**70
    assert records["meta"]["extra"] == {"_nango_metadata": {"mine": 1}}
    assert set(records["to-prune"]) == {"id", "_nango_metadata"}  # pruned: metadata stays
    deleted = records["to-delete"]["_nango_metadata"]
    assert deleted["deleted_at"] is not None
    assert deleted["deleted_at"] == deleted["last_modified_at"]
    assert list(records["plain"]) == ["extra", "id", "tags", "title", "_nango_metadata"]
    assert list(records["plain"]["_nango_metadata"]) == [
        "first_seen_at",
        "last_modified_at",
        "last_action",
        "deleted_at",
        "cursor",
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"filter": "deleted"},
        {"filter": "added,updated"},
        {"ids": ["nested", "to-delete", "nope"]},
        {"ids": []},
        {"modified_after": "2000-01-01T00:00:00Z", "limit": 3},
        {"modified_after": "2999-01-01T00:00:00Z"},
    ],
)
def test_filters_ids_and_dates_select_the_same_records(
    backend: SqlRecordStore, query: dict[str, Any]
) -> None:
    fill(backend)
    page, ready = both(backend, **query)
    assert parsed(ready) == page.records
    assert ready.next_cursor == page.next_cursor


def test_an_unknown_scope_is_an_empty_page(backend: SqlRecordStore) -> None:
    ready = backend.list_records_json(RecordQuery(RecordScope("prod", "github", "other"), "Doc"))
    assert ready == JsonRecordPage([], None)


def test_bad_queries_are_the_same_errors(backend: SqlRecordStore) -> None:
    fill(backend)
    for query, words in (
        ({"limit": 0}, "limit"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"filter": "gone"}, "filter"),
        ({"ids": [str(i) for i in range(101)]}, "at most 100"),
    ):
        with pytest.raises(RecordQueryError, match=words):
            backend.list_records_json(RecordQuery(SCOPE, "Doc", **query))


async def test_the_async_read_and_has_records(backend: SqlRecordStore) -> None:
    assert not backend.has_records(SCOPE, "Doc")
    fill(backend)
    page = backend.list_records(RecordQuery(SCOPE, "Doc", limit=100))
    ready = backend.list_records_json(RecordQuery(SCOPE, "Doc", limit=100))
    assert parsed(ready) == page.records
    assert backend.has_records(SCOPE, "Doc")
    backend.delete_records(SCOPE, "Doc", [d.id for d in docs()])
    assert backend.has_records(SCOPE, "Doc")  # deleted records are still records
    assert not backend.has_records(SCOPE, "Other")


# -- the splice, without a database --------------------------------------------------------

META = ("2024-05-01T12:00:00.000000Z", "2024-05-02T12:00:00.000000Z", "UPDATED")


@pytest.mark.parametrize(
    "data",
    [
        "{}",
        '{"id":"1"}',
        '{"a":{"b":[1,{}]},"id":"x","z":"}"}',
        '{"id":"ü","s":"\\"\\\\\\n"}',
        '{"_nango_metadata":{"x":1},"id":"1"}',
        '{"id":"1","inner":{"_nango_metadata":2}}',
        '{"big":123456789012345678901234567890,"id":"1"}',
    ],
)
@pytest.mark.parametrize("deleted_at", [None, "2024-05-03T12:00:00.000000Z"])
def test_record_json_is_the_data_with_the_metadata_last(data: str, deleted_at: str | None) -> None:
    out = record_json(data, *META, deleted_at, "Y3Vyc29y")
    record = json.loads(out)
    expected = json.loads(data)
    expected.pop("_nango_metadata", None)
    expected["_nango_metadata"] = {
        "first_seen_at": META[0],
        "last_modified_at": META[1],
        "last_action": META[2],
        "deleted_at": deleted_at,
        "cursor": "Y3Vyc29y",
    }
    assert record == expected
    assert list(record)[-1] == "_nango_metadata"
    assert out.count(b'"_nango_metadata":{"first_seen_at"') == 1


def test_latest_change_moves_with_every_change_but_a_prune(backend: SqlRecordStore) -> None:
    assert backend.latest_change(SCOPE, "Doc") == 0
    backend.save_records(SCOPE, "Doc", [Doc(id="a"), Doc(id="b")])
    marks = [backend.latest_change(SCOPE, "Doc")]
    backend.save_records(SCOPE, "Doc", [Doc(id="a")])  # unchanged
    assert backend.latest_change(SCOPE, "Doc") == marks[-1]
    backend.update_records(SCOPE, "Doc", [{"id": "a", "title": "t"}])
    marks.append(backend.latest_change(SCOPE, "Doc"))
    backend.delete_records(SCOPE, "Doc", ["b"])
    marks.append(backend.latest_change(SCOPE, "Doc"))
    assert marks == sorted(set(marks))  # each change moved it on
    cursor = backend.list_records(RecordQuery(SCOPE, "Doc")).records[-1]["_nango_metadata"][
        "cursor"
    ]
    backend.prune_records(SCOPE, "Doc", until_cursor=cursor)
    assert backend.latest_change(SCOPE, "Doc") == marks[-1]
    backend.clear_records(SCOPE, ["Doc"])
    assert backend.latest_change(SCOPE, "Doc") == 0
