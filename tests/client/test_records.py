"""Records: one page, every page, modified_after and filter, ids, prune; their errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest
from support.fakeapi import Received
from support.server_harness import API_KEY, SECRET, Harness

from nango_scripts.client import (
    AsyncNango,
    NangoBadRequestError,
    PruneResult,
    RecordMetadata,
    RecordsPage,
)

pytestmark = pytest.mark.anyio

ALL = ["0", "1", "2", "3", "4"]


async def test_list_records_gives_a_typed_page(harness: Harness, anango: AsyncNango) -> None:
    await harness.run_items()
    page = await anango.list_records("fake", "c1", "Item")
    assert isinstance(page, RecordsPage)
    assert [r["id"] for r in page.records] == ALL
    assert page.records[2]["n"] == 2
    assert page.next_cursor is None
    meta = RecordMetadata.of(page.records[0])
    assert meta.last_action == "ADDED"
    assert meta.deleted_at is None
    assert meta.cursor
    assert meta.first_seen_at.tzinfo is not None


async def test_cursor_paging_by_hand(harness: Harness, anango: AsyncNango) -> None:
    await harness.run_items()
    first = await anango.list_records("fake", "c1", "Item", limit=3)
    assert [r["id"] for r in first.records] == ["0", "1", "2"]
    assert first.next_cursor is not None
    rest = await anango.list_records("fake", "c1", "Item", limit=3, cursor=first.next_cursor)
    assert [r["id"] for r in rest.records] == ["3", "4"]
    assert rest.next_cursor is None


async def test_iter_records_walks_every_page(harness: Harness) -> None:
    await harness.run_items()
    sent: list[httpx.Request] = []

    async def seen(request: httpx.Request) -> None:
        sent.append(request)

    http = httpx.AsyncClient(transport=harness.transport, event_hooks={"request": [seen]})
    async with http, AsyncNango(secret_key=SECRET, host="http://h", http_client=http) as nango:
        ids = [r["id"] async for r in nango.iter_records("fake", "c1", "Item", limit=2)]
    assert ids == ALL
    assert len(sent) == 3  # 2 + 2 + 1
    assert [r.url.params.get("cursor") is None for r in sent] == [True, False, False]
    assert {r.url.path for r in sent} == {"/records/"}


async def test_iter_records_of_nothing_is_empty(harness: Harness, anango: AsyncNango) -> None:
    assert [r async for r in anango.iter_records("fake", "c1", "Item")] == []


def _changed(request: Received) -> tuple[int, dict[str, str], Any]:
    if request.headers.get("x-key") != API_KEY:
        return 401, {}, {"message": "bad key"}
    items = [{"id": str(i), "n": i * 10 if i in (1, 3) else i} for i in range(5)]
    return 200, {}, [*items, {"id": "5", "n": 5}]


async def test_modified_after_and_filter(harness: Harness, anango: AsyncNango) -> None:
    await harness.run_items()
    await anyio.sleep(0.01)
    between = datetime.now(UTC)
    await anyio.sleep(0.01)
    harness.api.route("/items", _changed)
    await harness.run_items()

    def ids(page: RecordsPage) -> list[str]:
        return [r["id"] for r in page.records]

    since = await anango.list_records("fake", "c1", "Item", modified_after=between)
    assert ids(since) == ["1", "3", "5"]
    assert ids(await anango.list_records("fake", "c1", "Item", filter="updated")) == ["1", "3"]
    added_since = await anango.list_records(
        "fake", "c1", "Item", modified_after=between, filter=["added"]
    )
    assert ids(added_since) == ["5"]
    both = await anango.list_records("fake", "c1", "Item", filter=["added", "updated"])
    assert len(both.records) == 6
    as_text = between.isoformat().replace("+00:00", "Z")
    assert ids(await anango.list_records("fake", "c1", "Item", modified_after=as_text)) == [
        "1",
        "3",
        "5",
    ]
    later = await anango.list_records("fake", "c1", "Item", modified_after="2999-01-01T00:00:00Z")
    assert later.records == []


async def test_ids(harness: Harness, anango: AsyncNango) -> None:
    await harness.run_items()
    page = await anango.list_records("fake", "c1", "Item", ids=["1", 3, "nope"])
    assert [r["id"] for r in page.records] == ["1", "3"]


async def test_prune_records(harness: Harness, anango: AsyncNango) -> None:
    await harness.run_items()
    page = await anango.list_records("fake", "c1", "Item")
    until = RecordMetadata.of(page.records[1]).cursor
    result = await anango.prune_records("fake", "c1", "Item", until)
    assert result == PruneResult(count=2, has_more=False)


async def test_unknown_connection_is_nangos_400(harness: Harness, anango: AsyncNango) -> None:
    with pytest.raises(NangoBadRequestError) as caught:
        await anango.list_records("fake", "ghost", "Item")
    assert (caught.value.status, caught.value.code) == (400, "unknown_connection")
    assert "ghost" in str(caught.value)


async def test_unknown_model_names_the_field(harness: Harness, anango: AsyncNango) -> None:
    with pytest.raises(NangoBadRequestError) as caught:
        await anango.list_records("fake", "c1", "Nope")
    assert caught.value.code == "invalid_query_params"
    assert caught.value.errors is not None
    assert caught.value.errors[0]["path"] == ["model"]


async def test_bad_arguments_fail_before_sending(anango: AsyncNango) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await anango.list_records("fake", "c1", "Item", modified_after=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="model is required"):
        await anango.list_records("fake", "c1", "")
    with pytest.raises(ValueError, match="connection_id is required"):
        await anango.list_records("fake", "", "Item")
