"""GET /records (with and without the trailing slash) and PATCH /records/prune."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from support.server_harness import Harness

from nango_scripts.store import RecordQuery, RecordScope

pytestmark = pytest.mark.anyio

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}


async def records(harness: Harness, path: str = "/records/", **params: Any) -> dict[str, Any]:
    answer = await harness.client.get(path, params={"model": "Item", **params}, headers=CONN)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_records_after_a_run_with_nangos_shape_on_both_paths(harness: Harness) -> None:
    await harness.run_items()
    for path in ("/records", "/records/"):
        page = await records(harness, path)
        assert [r["id"] for r in page["records"]] == ["0", "1", "2", "3", "4"]
        assert page["next_cursor"] is None
        first = page["records"][0]
        assert first["n"] == 0
        meta = first["_nango_metadata"]
        assert meta["last_action"] == "ADDED"
        assert meta["deleted_at"] is None
        assert {"first_seen_at", "last_modified_at", "cursor"} <= set(meta)


async def test_paging_with_limit_and_cursor_then_filters(harness: Harness) -> None:
    await harness.run_items()
    seen: list[str] = []
    cursor = None
    while True:
        page = await records(harness, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [r["id"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["0", "1", "2", "3", "4"]
    assert (await records(harness, filter="deleted"))["records"] == []
    assert len((await records(harness, filter="added,updated"))["records"]) == 5
    later = (await records(harness, modified_after="2999-01-01T00:00:00Z"))["records"]
    assert later == []
    everything = await records(harness, modified_after="2000-01-01T00:00:00.000Z")
    assert len(everything["records"]) == 5


async def test_ids_repeated_and_comma_separated(harness: Harness) -> None:
    await harness.run_items()
    answer = await harness.client.get("/records/?model=Item&ids=1&ids=3%2C4&ids=nope", headers=CONN)
    assert answer.status_code == 200
    assert [r["id"] for r in answer.json()["records"]] == ["1", "3", "4"]


@pytest.mark.parametrize(
    ("query", "headers", "code", "words"),
    [
        ("model=Item&cursor=bm90LWEtY3Vyc29y", CONN, "invalid_query_params", "cursor"),
        ("model=Nope", CONN, "invalid_query_params", "model 'Nope'"),
        ("model=Item&limit=0", CONN, "invalid_query_params", "limit"),
        ("model=Item&limit=10001", CONN, "invalid_query_params", "limit"),
        ("model=Item&limit=ten", CONN, "invalid_query_params", "limit"),
        ("", CONN, "invalid_query_params", "model"),
        ("model=Item&filter=gone", CONN, "invalid_query_params", "filter"),
        ("model=Item&modified_after=yesterday", CONN, "invalid_query_params", "modified_after"),
        ("model=Item&variant=v2", CONN, "invalid_query_params", "variant"),
        ("model=Item", {"Provider-Config-Key": "fake"}, "invalid_headers", "Connection-Id"),
        ("model=Item", {"Connection-Id": "c1"}, "invalid_headers", "Provider-Config-Key"),
        (
            "model=Item",
            {"Connection-Id": "ghost", "Provider-Config-Key": "fake"},
            "unknown_connection",
            "ghost",
        ),
    ],
)
async def test_bad_reads_are_400_with_a_message_naming_the_problem(
    harness: Harness, query: str, headers: dict[str, str], code: str, words: str
) -> None:
    await harness.run_items()
    answer = await harness.client.get(f"/records?{query}", headers=headers)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert words in error["message"]


async def test_too_many_ids_is_a_400(harness: Harness) -> None:
    ids = ",".join(str(i) for i in range(101))
    answer = await harness.client.get(f"/records?model=Item&ids={ids}", headers=CONN)
    assert answer.status_code == 400
    assert "at most 100" in answer.json()["error"]["message"]


async def test_prune_drops_data_up_to_the_cursor(harness: Harness) -> None:
    await harness.run_items()
    page = await records(harness)
    until = page["records"][1]["_nango_metadata"]["cursor"]
    answer = await harness.client.patch(
        "/records/prune", json={"model": "Item", "until_cursor": until, "limit": 10}, headers=CONN
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"count": 2, "has_more": False}
    after = (await records(harness))["records"]
    assert [("n" in r) for r in after] == [False, False, True, True, True]
    bad = await harness.client.patch(
        "/records/prune", json={"model": "Item", "until_cursor": "zzz"}, headers=CONN
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_query_params"
    extra = await harness.client.patch(
        "/records/prune", json={"model": "Item", "until_cursor": until, "x": 1}, headers=CONN
    )
    assert extra.status_code == 400
    assert extra.json()["error"]["code"] == "invalid_body"
    assert "x" in extra.json()["error"]["message"]


class Note(BaseModel):
    id: str
    text: str
    nested: dict[str, Any] = {}


async def test_pages_are_the_stores_records_exactly(harness: Harness) -> None:
    """The route sends the stored JSON as it is: parsed, it is what list_records returns."""
    store = harness.service.records
    scope = RecordScope("dev", "fake", "c1")
    notes = [
        Note(id=f"n{i}", text=f'Grüße 東京 🎉 "{i}"\n', nested={"a": [i, {"b": None}]})
        for i in range(7)
    ]
    store.save_records(scope, "Note", notes)
    store.save_records(scope, "Note", [Note(id="n2", text="changed ✓")])
    store.delete_records(scope, "Note", ["n4"])
    cursor = None
    pages = 0
    while True:
        params = {"model": "Note", "limit": 3, **({"cursor": cursor} if cursor else {})}
        answer = await harness.client.get("/records", params=params, headers=CONN)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        expected = store.list_records(RecordQuery(scope, "Note", limit=3, cursor=cursor))
        assert answer.json() == {"records": expected.records, "next_cursor": expected.next_cursor}
        pages += 1
        cursor = expected.next_cursor
        if cursor is None:
            break
    assert pages == 3
    actions = {
        r["id"]: r["_nango_metadata"]["last_action"]
        for r in (store.list_records(RecordQuery(scope, "Note", limit=10))).records
    }
    assert (actions["n0"], actions["n2"], actions["n4"]) == ("ADDED", "UPDATED", "DELETED")


async def test_a_model_no_sync_declares_is_readable_while_it_has_records(
    harness: Harness,
) -> None:
    scope = RecordScope("dev", "fake", "c1")
    harness.service.records.save_records(scope, "Gone", [Note(id="1", text="kept")])
    harness.service.records.delete_records(scope, "Gone", ["1"])
    answer = await harness.client.get("/records", params={"model": "Gone"}, headers=CONN)
    assert answer.status_code == 200, answer.text
    assert [r["id"] for r in answer.json()["records"]] == ["1"]
    missing = await harness.client.get("/records", params={"model": "Never"}, headers=CONN)
    assert missing.status_code == 400
    assert "model 'Never'" in missing.json()["error"]["message"]
