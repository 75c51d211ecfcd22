"""ApiClient.paginate against real local servers: every pagination style, end to end."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import orjson
import pytest
from support.fakeapi import FakeApi, Received, Reply, json_reply
from support.waiting import eventually_async

from nango_scripts.errors import HttpError, PaginationError
from nango_scripts.http import ApiClient, Cursor, Link, Offset, RetryPolicy

pytestmark = pytest.mark.anyio

RECORDS = [{"id": i} for i in range(7)]


async def collect(pages: Any) -> list[list[Any]]:
    return [page async for page in pages]


def flat(pages: list[list[Any]]) -> list[Any]:
    return [item for page in pages for item in page]


async def test_cursor_in_query_with_limit_and_response_path(
    fake_api: FakeApi, provider_for: Any
) -> None:
    def handler(request: Received) -> Reply:
        size = int(request.query["per_page"])
        start = int(request.query.get("after", 0))
        chunk = RECORDS[start : start + size]
        end = start + len(chunk)
        return 200, {}, {"data": chunk, "meta": {"next": str(end) if end < len(RECORDS) else ""}}

    fake_api.route("/v1/items", handler)
    config = Cursor(
        cursor_path_in_response="meta.next",
        cursor_name_in_request="after",
        response_path="data",
        limit=3,
        limit_name_in_request="per_page",
    )
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/items", params={"state": "all"}, paginate=config))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert flat(pages) == RECORDS
    assert [r.query for r in fake_api.requests] == [
        {"state": "all", "per_page": "3"},
        {"state": "all", "per_page": "3", "after": "3"},
        {"state": "all", "per_page": "3", "after": "6"},
    ]


async def test_cursor_in_body_with_post(fake_api: FakeApi, provider_for: Any) -> None:
    def handler(request: Received) -> Reply:
        body = request.json()
        start = int(body.get("cursor") or 0)
        chunk = RECORDS[start : start + body["page_size"]]
        nxt = start + len(chunk)
        return 200, {}, {"results": chunk, "next_cursor": nxt if nxt < len(RECORDS) else None}

    fake_api.route("/v1/search", handler)
    config = {
        "type": "cursor",
        "cursor_path_in_response": "next_cursor",
        "cursor_name_in_request": "cursor",
        "response_path": "results",
        "limit": 4,
        "limit_name_in_request": "page_size",
        "in_body": True,
    }
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(
            client.paginate("/search", method="POST", json={"q": "x"}, paginate=config)
        )
    assert flat(pages) == RECORDS
    assert [r.method for r in fake_api.requests] == ["POST", "POST"]
    assert [r.json() for r in fake_api.requests] == [
        {"q": "x", "page_size": 4},
        {"q": "x", "page_size": 4, "cursor": 4},
    ]
    assert all(r.query == {} for r in fake_api.requests)


async def test_cursor_short_page_does_not_stop(fake_api: FakeApi, provider_for: Any) -> None:
    replies = iter(
        [
            {"items": [1], "next": "b"},  # shorter than limit, cursor given: go on
            {"items": [2, 3], "next": "c"},
            {"items": [], "next": "d"},  # empty page ends it
        ]
    )
    fake_api.route("/v1/x", lambda _: (200, {}, next(replies)))
    config = Cursor(
        cursor_path_in_response="next",
        cursor_name_in_request="c",
        response_path="items",
        limit=2,
        limit_name_in_request="n",
    )
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/x", paginate=config))
    assert pages == [[1], [2, 3]]
    assert len(fake_api.requests) == 3


async def test_link_header_to_another_host(fake_api: FakeApi, provider_for: Any, spy: Any) -> None:
    with FakeApi() as other:
        fake_api.route(
            "/v1/issues",
            lambda _: (
                200,
                {
                    "Link": f'<{other.url}/v2/issues?page=2&per_page=2>; rel="next", <{other.url}/x>; rel="last"'
                },
                RECORDS[:2],
            ),
        )
        other.route(
            "/v2/issues",
            lambda r: (
                200,
                {"Link": f'<{other.url}/v2/issues?page=3&per_page=2>; rel="next"'}
                if r.query["page"] == "2"
                else {"Link": f'<{fake_api.url}/v1/issues>; rel="first"'},
                RECORDS[2:4] if r.query["page"] == "2" else RECORDS[4:5],
            ),
        )
        config = Link(link_rel_in_response_header="next", limit=2, limit_name_in_request="per_page")
        async with ApiClient(
            provider_for(fake_api, auth="api_key"), {"apiKey": "k"}, log=spy.log
        ) as client:
            pages = await collect(
                client.paginate("/issues", params={"state": "all"}, paginate=config)
            )
        assert flat(pages) == RECORDS[:5]
        assert fake_api.requests[0].query == {"state": "all", "per_page": "2"}
        # the next links are used as given: the script's params are not added again
        assert [r.query for r in other.requests] == [
            {"page": "2", "per_page": "2"},
            {"page": "3", "per_page": "2"},
        ]
        assert all(r.headers["authorization"] == "Bearer k" for r in other.requests)
    assert spy.warnings() == []


async def test_a_next_link_to_a_host_named_by_data_gets_no_credentials(
    fake_api: FakeApi, provider_for: Any
) -> None:
    with FakeApi() as other:
        foreign = other.url.replace("127.0.0.1", "localhost")  # another host name
        fake_api.route(
            "/v1/issues",
            lambda _: (200, {"Link": f'<{foreign}/v1/issues?page=2>; rel="next"'}, RECORDS[:2]),
        )
        other.route("/v1/issues", json_reply(RECORDS[2:4]))
        provider = provider_for(fake_api, auth="api_key", api_key_header="X-Key")
        config = Link(link_rel_in_response_header="next")
        async with ApiClient(provider, {"apiKey": "k-s3cr3t"}) as client:
            pages = await collect(client.paginate("/issues", paginate=config))
        assert flat(pages) == RECORDS[:4]
        assert fake_api.requests[0].headers["x-key"] == "Bearer k-s3cr3t"
        assert "x-key" not in other.requests[0].headers


@pytest.mark.parametrize("style", ["absolute", "relative-path", "relative-query"])
async def test_next_link_in_body_with_odata_keys(
    fake_api: FakeApi, provider_for: Any, style: str
) -> None:
    def next_link(page: int) -> str:
        if style == "absolute":
            return fake_api.url_for(f"/v1/users?$skiptoken={page}")
        if style == "relative-path":
            return f"/v1/users?$skiptoken={page}"
        return f"?$skiptoken={page}"

    def handler(request: Received) -> Reply:
        page = int(request.query.get("$skiptoken", 0))
        body: dict[str, Any] = {"value": RECORDS[page * 3 : page * 3 + 3]}
        if page < 2:
            body["@odata.nextLink"] = next_link(page + 1)
        return 200, {}, body

    fake_api.route("/v1/users", handler)
    config = Link(link_path_in_response_body="@odata.nextLink", response_path="value")
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/users", params={"$top": "3"}, paginate=config))
    assert flat(pages) == RECORDS
    assert [r.query for r in fake_api.requests] == [
        {"$top": "3"},
        {"$skiptoken": "1"},
        {"$skiptoken": "2"},
    ]


async def test_offset_by_response_size(fake_api: FakeApi, provider_for: Any) -> None:
    def handler(request: Received) -> Reply:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        return 200, {}, {"rows": RECORDS[offset : offset + limit]}

    fake_api.route("/v1/rows", handler)
    config = Offset(
        offset_name_in_request="offset",
        response_path="rows",
        limit=3,
        limit_name_in_request="limit",
    )
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/rows", paginate=config))
    assert flat(pages) == RECORDS
    assert [r.query["offset"] for r in fake_api.requests] == ["0", "3", "6"]  # 6 -> 1 row: short


async def test_offset_per_page_until_empty(fake_api: FakeApi, provider_for: Any) -> None:
    def handler(request: Received) -> Reply:
        page = int(request.query["page"])
        return 200, {}, RECORDS[(page - 1) * 2 : page * 2]

    fake_api.route("/v1/rows", handler)
    config = {
        "type": "offset",
        "offset_name_in_request": "page",
        "offset_start_value": 1,
        "offset_calculation_method": "per-page",
    }
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/rows", paginate=config))
    assert flat(pages) == RECORDS
    assert [r.query["page"] for r in fake_api.requests] == ["1", "2", "3", "4", "5"]


async def test_provider_default_merged_with_script_limit(
    fake_api: FakeApi, provider_for: Any
) -> None:
    def handler(request: Received) -> Reply:
        offset, limit = int(request.query["start"]), int(request.query["count"])
        return 200, {}, {"list": RECORDS[offset : offset + limit]}

    fake_api.route("/v1/rows", handler)
    provider = provider_for(
        fake_api,
        pagination={
            "type": "offset",
            "offset_name_in_request": "start",
            "limit_name_in_request": "count",
            "response_path": "list",
        },
    )
    async with ApiClient(provider, {}) as client:
        pages = await collect(client.paginate("/rows", paginate={"limit": 4}))
    assert pages == [RECORDS[:4], RECORDS[4:]]


async def test_repeated_cursor_ends_with_a_warning(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    replies = iter(
        [
            {"items": [1, 2], "next": "a"},
            {"items": [3, 4], "next": "b"},
            {"items": [5], "next": "a"},  # back to a cursor already followed
        ]
    )
    fake_api.route("/v1/x", lambda _: (200, {}, next(replies)))
    config = Cursor(
        cursor_path_in_response="next", cursor_name_in_request="c", response_path="items"
    )
    async with ApiClient(provider_for(fake_api), {}, log=spy.log) as client:
        pages = await collect(client.paginate("/x", paginate=config))
    assert flat(pages) == [1, 2, 3, 4, 5]
    assert len(fake_api.requests) == 3
    assert len(spy.warnings()) == 1 and "cursor 'a' again" in spy.warnings()[0]


async def test_repeated_link_ends_with_a_warning(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    def handler(request: Received) -> Reply:
        page = request.query.get("page", "1")
        return 200, {"Link": '</v1/x?page=2>; rel="next"'}, [f"p{page}"]

    fake_api.route("/v1/x", handler)
    async with ApiClient(provider_for(fake_api), {}, log=spy.log) as client:
        pages = await collect(
            client.paginate("/x", paginate=Link(link_rel_in_response_header="next"))
        )
    assert pages == [["p1"], ["p2"]]
    assert len(spy.warnings()) == 1 and "again" in spy.warnings()[0]


async def test_get_pages_are_read_one_page_ahead(fake_api: FakeApi, provider_for: Any) -> None:
    """While the caller works on a page, the next one is on its way: one, not more."""
    fake_api.route("/v1/rows", lambda r: (200, {}, RECORDS[int(r.query["o"]) :][:2]))
    config = Offset(offset_name_in_request="o", limit=2, limit_name_in_request="n")
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = client.paginate("/rows", paginate=config)
        first = await anext(pages)
        assert first == RECORDS[:2]
        await eventually_async(lambda: len(fake_api.requests) == 2, "the next page is asked for")
        await asyncio.sleep(0.1)
        assert [r.query["o"] for r in fake_api.requests] == ["0", "2"]
        rest = await collect(pages)
    assert flat([first, *rest]) == RECORDS
    assert [r.query["o"] for r in fake_api.requests] == ["0", "2", "4", "6"]


async def test_a_caller_that_stops_early_leaves_no_request_behind(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/rows", lambda r: (200, {}, RECORDS[int(r.query["o"]) :][:2]))
    config = Offset(offset_name_in_request="o", limit=2, limit_name_in_request="n")
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = client.paginate("/rows", paginate=config)
        async for _ in pages:
            break
        await pages.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
    assert len(fake_api.requests) <= 2


async def test_post_pages_are_not_read_ahead(fake_api: FakeApi, provider_for: Any) -> None:
    """A POST may change something: its next page is asked for only when wanted."""

    def handler(request: Received) -> Reply:
        start = int(request.json().get("cursor") or 0)
        nxt = start + 2
        return 200, {}, {"data": RECORDS[start:nxt], "next": nxt if nxt < len(RECORDS) else None}

    fake_api.route("/v1/search", handler)
    config = {
        "type": "cursor",
        "cursor_path_in_response": "next",
        "cursor_name_in_request": "cursor",
        "response_path": "data",
        "in_body": True,
    }
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = client.paginate("/search", method="POST", json={}, paginate=config)
        first = await anext(pages)
        await asyncio.sleep(0.2)
        assert len(fake_api.requests) == 1
        rest = await collect(pages)
    assert flat([first, *rest]) == RECORDS


async def test_a_bad_next_link_fails_after_the_page_that_carried_it(
    fake_api: FakeApi, provider_for: Any
) -> None:
    """The page is handed over first (a script saves it), then the bad link raises."""
    fake_api.route("/v1/x", lambda r: (200, {"Link": '<http://[::1/>; rel="next"'}, ["p1"]))
    got: list[list[Any]] = []
    async with ApiClient(provider_for(fake_api), {}) as client:
        with pytest.raises(PaginationError):
            async for page in client.paginate(
                "/x", paginate=Link(link_rel_in_response_header="next")
            ):
                got.append(page)
    assert got == [["p1"]]


async def test_a_json_page_in_another_encoding_is_still_read(
    fake_api: FakeApi, provider_for: Any
) -> None:
    body = '[{"name": "Zoë"}]'.encode("utf-16")
    fake_api.route(
        "/v1/x", lambda r: (200, {"Content-Type": "application/json; charset=utf-16"}, body)
    )
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(
            client.paginate("/x", paginate=Link(link_rel_in_response_header="next"))
        )
    assert pages == [[{"name": "Zoë"}]]


async def test_retry_in_the_middle_of_paginating(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    """The second page fails twice: once read ahead (one attempt, dropped), once when
    wanted (retried after a pause), then answers."""
    calls = {"n": 0}

    def handler(request: Received) -> Reply:
        calls["n"] += 1
        if calls["n"] in (2, 3):
            return 500, {}, "hiccup"
        offset = int(request.query["o"])
        return 200, {}, RECORDS[offset : offset + 4]

    fake_api.route("/v1/rows", handler)
    config = Offset(offset_name_in_request="o", limit=4, limit_name_in_request="n")
    async with ApiClient(
        provider_for(fake_api), {}, sleep=spy.sleep, retry_policy=RetryPolicy(jitter="none")
    ) as client:
        pages = await collect(client.paginate("/rows", paginate=config))
    assert flat(pages) == RECORDS
    assert spy.sleeps == [1.0]
    assert [r.query["o"] for r in fake_api.requests] == ["0", "4", "4", "4"]


async def test_http_error_while_paginating(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/x", json_reply({"message": "gone"}, status=404))
    async with ApiClient(provider_for(fake_api), {}) as client:
        with pytest.raises(HttpError) as info:
            await collect(client.paginate("/x", paginate=Link(link_rel_in_response_header="next")))
    assert info.value.status == 404


async def test_non_json_page(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/x", json_reply("<html>hi</html>"))
    async with ApiClient(provider_for(fake_api), {}) as client:
        with pytest.raises(PaginationError, match="did not answer JSON"):
            await collect(client.paginate("/x", paginate=Link(link_rel_in_response_header="next")))


async def test_bad_config_raises_when_paginate_is_called(
    fake_api: FakeApi, provider_for: Any
) -> None:
    async with ApiClient(provider_for(fake_api), {}) as client:
        with pytest.raises(PaginationError, match="Unknown pagination type"):
            client.paginate("/x", paginate={"type": "pages"})
        with pytest.raises(PaginationError, match="paginate="):
            client.paginate("/x")
    assert fake_api.requests == []


def _gzip_pages(request: Received) -> Reply:
    offset = int(request.query.get("o", 0))
    body = gzip.compress(orjson.dumps(RECORDS[offset : offset + 4]))
    return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, body


async def test_a_gzipped_page_is_decoded(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/rows", _gzip_pages)
    config = Offset(offset_name_in_request="o", limit=4, limit_name_in_request="n")
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/rows", paginate=config))
    assert flat(pages) == RECORDS
    assert "gzip" in fake_api.requests[0].headers["accept-encoding"]


async def test_a_page_that_redirects_is_followed_with_the_credential_checks(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/old", lambda r: (302, {"Location": f"{fake_api.url}/v1/new"}, b""))
    fake_api.route("/v1/new", json_reply(RECORDS))
    async with ApiClient(
        provider_for(fake_api, auth="api_key"), {"type": "API_KEY", "apiKey": "k1"}
    ) as client:
        pages = await collect(
            client.paginate("/old", paginate=Link(link_rel_in_response_header="next"))
        )
    assert flat(pages) == RECORDS
    # A page's own GET stops at a redirect; the page is asked again through httpx, which
    # follows it hop by hop with the credential checks (redirected pages are rare).
    assert [r.path for r in fake_api.requests] == ["/v1/old", "/v1/old", "/v1/new"]
    assert fake_api.requests[1].headers["authorization"] == "Bearer k1"


async def test_a_cookie_set_by_a_page_goes_with_the_next_pages(
    fake_api: FakeApi, provider_for: Any
) -> None:
    def handler(request: Received) -> Reply:
        offset = int(request.query.get("o", 0))
        headers = {"Set-Cookie": "page_session=p1"} if offset == 0 else {}
        return 200, headers, RECORDS[offset : offset + 3]

    fake_api.route("/v1/rows", handler)
    config = Offset(offset_name_in_request="o", limit=3, limit_name_in_request="n")
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(client.paginate("/rows", paginate=config))
    assert flat(pages) == RECORDS
    assert [r.headers.get("cookie") for r in fake_api.requests] == [None] + ["page_session=p1"] * (
        len(fake_api.requests) - 1
    )


async def test_a_scripts_own_accept_encoding_is_sent_as_given(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/rows", lambda r: (200, {}, RECORDS[int(r.query.get("o", 0)) :][:4]))
    config = Offset(offset_name_in_request="o", limit=4, limit_name_in_request="n")
    async with ApiClient(provider_for(fake_api), {}) as client:
        pages = await collect(
            client.paginate("/rows", paginate=config, headers={"Accept-Encoding": "identity"})
        )
    assert flat(pages) == RECORDS
    assert {r.headers["accept-encoding"] for r in fake_api.requests} == {"identity"}
