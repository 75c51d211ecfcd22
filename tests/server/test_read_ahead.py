"""GET /records reads the next page ahead: a page taken from there is exactly what a read
at that moment returns (changes and prunes in between are seen); and ReadAhead's bounds."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from pydantic import BaseModel
from support.server_harness import Harness

from nango_scripts.server._read_ahead import ReadAhead, RenderedPage
from nango_scripts.store import RecordQuery, RecordScope

pytestmark = pytest.mark.anyio

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}
SCOPE = RecordScope("dev", "fake", "c1")


class Note(BaseModel):
    id: str
    text: str


def read_ahead(harness: Harness) -> ReadAhead:
    ahead: ReadAhead = harness.transport.app.state.records_read_ahead  # type: ignore[attr-defined]
    return ahead


async def page(harness: Harness, cursor: str | None, limit: int = 3) -> dict[str, Any]:
    params: dict[str, Any] = {"model": "Note", "limit": limit}
    if cursor:
        params["cursor"] = cursor
    answer = await harness.client.get("/records", params=params, headers=CONN)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def expected(harness: Harness, cursor: str | None, limit: int = 3) -> dict[str, Any]:
    fresh = harness.service.records.list_records(
        RecordQuery(SCOPE, "Note", limit=limit, cursor=cursor)
    )
    return {"records": fresh.records, "next_cursor": fresh.next_cursor}


async def save(harness: Harness, *notes: Note) -> None:
    harness.service.records.save_records(SCOPE, "Note", list(notes))


async def test_pages_read_ahead_are_the_pages(harness: Harness) -> None:
    await save(harness, *(Note(id=str(i), text=f"note {i} ✓") for i in range(10)))
    cursor, ids = None, []
    while True:
        want = await expected(harness, cursor)
        got = await page(harness, cursor)
        assert got == want
        ids += [r["id"] for r in got["records"]]
        await read_ahead(harness).wait_idle()
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert ids == [str(i) for i in range(10)]
    assert read_ahead(harness).hits == 3  # pages 2, 3 and 4 came from the read-ahead


async def test_a_change_after_the_read_ahead_is_seen(harness: Harness) -> None:
    await save(harness, *(Note(id=str(i), text="v1") for i in range(6)))
    first = await page(harness, None)
    await read_ahead(harness).wait_idle()  # page 2 (ids 3, 4, 5) is read ahead by now
    await save(harness, Note(id="4", text="v2"))  # 4 moves to the end
    second = await page(harness, first["next_cursor"])
    assert second == await expected(harness, first["next_cursor"])
    assert [r["id"] for r in second["records"]] == ["3", "5", "4"]
    assert second["records"][2]["text"] == "v2"
    assert read_ahead(harness).hits == 0


async def test_a_prune_after_the_read_ahead_is_seen(harness: Harness) -> None:
    await save(harness, *(Note(id=str(i), text="data") for i in range(6)))
    first = await page(harness, None)
    await read_ahead(harness).wait_idle()
    everything = harness.service.records.list_records(RecordQuery(SCOPE, "Note", limit=10))
    until = everything.records[4]["_nango_metadata"]["cursor"]
    pruned = await harness.client.patch(
        "/records/prune", json={"model": "Note", "until_cursor": until}, headers=CONN
    )
    assert pruned.status_code == 200, pruned.text
    second = await page(harness, first["next_cursor"])
    assert [("text" in r) for r in second["records"]] == [False, False, True]
    assert second == await expected(harness, first["next_cursor"])


# -- ReadAhead on its own --------------------------------------------------------------------


def query(cursor: str) -> RecordQuery:
    return RecordQuery(SCOPE, "Note", limit=3, cursor=cursor)


def rendered(version: int = 7) -> RenderedPage:
    return RenderedPage(b'{"records":[],"next_cursor":null}', None, version)


async def test_a_page_is_taken_once_and_only_while_current() -> None:
    ahead = ReadAhead()
    ahead.start(query("a"), rendered)
    assert await ahead.take(query("a"), lambda: 7) == rendered()
    assert await ahead.take(query("a"), lambda: 7) is None  # taken already
    ahead.start(query("b"), rendered)
    assert await ahead.take(query("b"), lambda: 8) is None  # the scope changed since
    assert await ahead.take(query("c"), lambda: 7) is None  # never read ahead
    assert ahead.hits == 1


async def test_a_failed_read_is_a_miss() -> None:
    def broken() -> RenderedPage:
        raise RuntimeError("the database is closed")

    ahead = ReadAhead()
    ahead.start(query("a"), broken)
    assert await ahead.take(query("a"), lambda: 7) is None


async def test_reads_under_way_pages_kept_and_age_are_bounded() -> None:
    release = threading.Event()

    def slow() -> RenderedPage:
        release.wait(10)
        return rendered()

    ahead = ReadAhead(max_pages=2, max_reading=1)
    ahead.start(query("a"), slow)
    ahead.start(query("b"), rendered)  # one read under way already: not started
    release.set()
    await ahead.wait_idle()
    assert await ahead.take(query("b"), lambda: 7) is None
    for name in ("c", "d", "e"):
        ahead.start(query(name), rendered)
        await ahead.wait_idle()
    assert await ahead.take(query("c"), lambda: 7) is None  # the oldest was dropped
    assert await ahead.take(query("e"), lambda: 7) == rendered()
    stale = ReadAhead(ttl_s=0.01)
    stale.start(query("a"), rendered)
    await stale.wait_idle()
    await asyncio.sleep(0.05)
    assert await stale.take(query("a"), lambda: 7) is None


async def test_forget_drops_the_pages_of_one_model() -> None:
    ahead = ReadAhead()
    other = RecordQuery(SCOPE, "Other", limit=3, cursor="a")
    ahead.start(query("a"), rendered)
    ahead.start(other, rendered)
    await ahead.wait_idle()
    ahead.forget(SCOPE, "Note")
    assert await ahead.take(query("a"), lambda: 7) is None
    assert await ahead.take(other, lambda: 7) == rendered()
