"""run_script with syncs: records, validation, contexts, errors; against a real local API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel
from support.fakeapi import FakeApi

from nango_scripts import BlockingNangoSync, Cursor, NangoSync, sync
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import run_script
from nango_scripts.runtime._context import MAX_LOGS_KEPT
from nango_scripts.store import Connection, MemoryRecordStore

from .conftest import make_connection, pages_of

pytestmark = pytest.mark.anyio

CURSOR = Cursor(
    cursor_path_in_response="next", cursor_name_in_request="cursor", response_path="data"
)


class Item(BaseModel):
    id: str
    n: int
    at: datetime | None = None


class Other(BaseModel):
    id: str


def items(count: int) -> list[dict[str, Any]]:
    return [{"id": f"i{k}", "n": k} for k in range(count)]


@sync(models=[Item], frequency="every hour", integration="fake")
async def async_items(nango: NangoSync) -> None:
    async for page in nango.paginate("/items", paginate=CURSOR):
        await nango.batch_save(page, Item)


@sync(models=[Item], frequency="every hour", integration="fake")
def plain_items(nango: BlockingNangoSync) -> None:
    for page in nango.paginate("/items", paginate=CURSOR):
        nango.batch_save(page, Item)
    nango.log("done", pages="all")


async def test_async_sync_saves_every_page(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    fake_api.route("/items", pages_of(items(25), 10))
    store = MemoryRecordStore()
    result = await run_script(async_items, connection=connection, provider=provider, store=store)
    assert result.success, result.error
    assert result.models["Item"].saved == 25
    assert [r["id"] for r in store.models["Item"].saved] == [f"i{k}" for k in range(25)]
    assert len(fake_api.requests_to("/items")) == 3
    assert result.duration_s > 0


async def test_plain_def_sync_gets_blocking_context(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    fake_api.route("/items", pages_of(items(7), 3))
    store = MemoryRecordStore()
    result = await run_script(plain_items, connection=connection, provider=provider, store=store)
    assert result.success, result.error
    assert result.models["Item"].saved == 7
    assert [log.message for log in result.logs if log.level == "info"][-1] == "done"
    assert result.logs[-1].fields == {"pages": "all"}


@sync(models=[Item], frequency="every hour", integration="fake")
async def with_bad_records(nango: NangoSync) -> None:
    await nango.batch_save(
        [
            {"id": "ok1", "n": 1},
            {"id": "bad", "n": "not a number"},
            {"id": "ok2", "n": 2},
            {"n": 3},
        ],
        Item,
    )


async def test_invalid_records_are_reported_counted_and_skipped(connection: Connection) -> None:
    store = MemoryRecordStore()
    provider = ProviderConfig(name="fake", base_url="http://127.0.0.1:9")
    result = await run_script(
        with_bad_records, connection=connection, provider=provider, store=store
    )
    assert result.success
    counts = result.models["Item"]
    assert (counts.saved, counts.invalid) == (2, 2)
    assert [r["id"] for r in store.models["Item"].saved] == ["ok1", "ok2"]
    bad = {(r.record_id, r.field) for r in result.invalid_records}
    assert bad == {("bad", "n"), (None, "id")}
    warnings = [log.message for log in result.logs if log.level == "warning"]
    assert any("'bad'" in w and "n:" in w for w in warnings)


async def test_validate_flag_fails_the_run_on_an_invalid_record(connection: Connection) -> None:
    provider = ProviderConfig(name="fake", base_url="http://127.0.0.1:9")
    result = await run_script(
        with_bad_records,
        connection=connection,
        provider=provider,
        store=MemoryRecordStore(),
        strict_validation=True,
    )
    assert not result.success
    assert result.error is not None and result.error.type == "validation_error"
    assert "bad" in result.error.message and "n" in result.error.message


@sync(models=[Item], frequency="every hour", integration="fake")
async def saves_other(nango: NangoSync) -> None:
    await nango.batch_save([{"id": "x"}], Other)


async def test_saving_an_undeclared_model_is_an_error(connection: Connection) -> None:
    provider = ProviderConfig(name="fake", base_url="http://127.0.0.1:9")
    result = await run_script(
        saves_other, connection=connection, provider=provider, store=MemoryRecordStore()
    )
    assert not result.success
    assert result.error is not None
    assert "Other" in result.error.message and "does not declare" in result.error.message


@sync(models=[Item], frequency="every hour", integration="fake")
async def crashes(nango: NangoSync) -> None:
    await nango.batch_save([{"id": "a", "n": 1}], Item)
    raise ValueError("boom")


async def test_a_crash_is_a_failed_result_pointing_at_the_script_line(
    connection: Connection,
) -> None:
    provider = ProviderConfig(name="fake", base_url="http://127.0.0.1:9")
    store = MemoryRecordStore()
    result = await run_script(crashes, connection=connection, provider=provider, store=store)
    assert not result.success
    assert result.error is not None
    assert result.error.message.startswith("ValueError: boom (at test_run_sync.py:")
    # records saved before the failure are kept
    assert result.models["Item"].saved == 1


@sync(models=[Item], frequency="every hour", integration="fake")
async def uses_state(nango: NangoSync) -> None:
    meta = await nango.get_metadata()
    await nango.update_metadata({"seen": meta.get("team", "?")})
    assert await nango.get_checkpoint() is None
    await nango.save_checkpoint({"page": 3, "since": "2024-01-01"})
    checkpoint = await nango.get_checkpoint()
    await nango.batch_save([{"id": "a", "n": 1, "at": "2024-05-01T00:00:00Z"}], Item)
    await nango.batch_update([{"id": "a", "n": 2}], Item)
    await nango.batch_delete(["a"], Item)
    found = await nango.get_records_by_ids(["a"], Item)
    nango.log("state", checkpoint=checkpoint, found=len(found), since=nango.last_sync_date)
    await nango.clear_checkpoint()


async def test_metadata_checkpoints_updates_and_deletes() -> None:
    saved_metadata: list[dict[str, Any]] = []

    async def save_metadata(metadata: dict[str, Any]) -> None:
        saved_metadata.append(metadata)

    store = MemoryRecordStore()
    since = datetime(2024, 5, 1, tzinfo=UTC)
    result = await run_script(
        uses_state,
        connection=make_connection(team="blue"),
        provider=ProviderConfig(name="fake", base_url="http://127.0.0.1:9"),
        store=store,
        save_metadata=save_metadata,
        last_sync_date=since,
    )
    assert result.success, result.error
    assert saved_metadata == [{"team": "blue", "seen": "blue"}]
    state = next(log for log in result.logs if log.message == "state")
    assert state.fields == {
        "checkpoint": {"page": 3, "since": "2024-01-01"},
        "found": 0,
        "since": since,
    }
    log = store.models["Item"]
    assert log.saved == [{"id": "a", "n": 1, "at": "2024-05-01T00:00:00Z"}]
    assert log.updated == [{"id": "a", "n": 2, "at": "2024-05-01T00:00:00Z"}]
    assert log.deleted == [{"id": "a", "n": 2, "at": "2024-05-01T00:00:00Z"}]
    counts = result.models["Item"]
    assert (counts.saved, counts.updated, counts.deleted) == (1, 1, 1)


@sync(models=[Item], frequency="every hour", integration="fake")
async def bad_checkpoint(nango: NangoSync) -> None:
    await nango.save_checkpoint({"nested": {"no": 1}})


async def test_a_checkpoint_must_be_flat() -> None:
    result = await run_script(
        bad_checkpoint,
        connection=make_connection(),
        provider=ProviderConfig(name="fake", base_url="http://127.0.0.1:9"),
        store=MemoryRecordStore(),
    )
    assert result.error is not None and "flat dict" in result.error.message


@sync(models=[Item], frequency="every hour", integration="fake")
async def calls_api(nango: NangoSync) -> None:
    response = await nango.get("/me")
    nango.log("me", who=response.json()["who"])


async def test_an_expired_oauth_token_is_refreshed_and_saved(fake_api: FakeApi) -> None:
    fake_api.route("/token", lambda r: (200, {}, {"access_token": "new-token", "expires_in": 3600}))

    def me(request: Any) -> Any:
        if request.headers.get("authorization") != "Bearer new-token":
            return 401, {}, {"error": "bad token"}
        return 200, {}, {"who": "alice"}

    fake_api.route("/me", me)
    provider = ProviderConfig(
        name="fake", base_url=fake_api.url, auth="oauth2", token_url=fake_api.url + "/token"
    )
    credentials = {
        "type": "OAUTH2",
        "access_token": "old-token",
        "refresh_token": "refresh-1",
        "expires_at": "2020-01-01T00:00:00Z",
    }
    persisted: list[dict[str, Any]] = []

    async def save_credentials(new: dict[str, Any]) -> None:
        persisted.append(new)

    result = await run_script(
        calls_api,
        connection=make_connection(credentials),
        provider=provider,
        store=MemoryRecordStore(),
        save_credentials=save_credentials,
    )
    assert result.success, result.error
    assert [log.fields.get("who") for log in result.logs if log.message == "me"] == ["alice"]
    assert persisted and persisted[0]["access_token"] == "new-token"
    assert fake_api.requests_to("/token")[0].form()["refresh_token"] == "refresh-1"


async def test_an_http_error_fails_the_run_with_status_and_url(
    fake_api: FakeApi, provider: ProviderConfig
) -> None:
    fake_api.route("/me", lambda r: (404, {}, {"message": "no such user"}))
    result = await run_script(
        calls_api, connection=make_connection(), provider=provider, store=MemoryRecordStore()
    )
    assert result.error is not None and result.error.type == "http_error"
    assert "404" in result.error.message and "/me" in result.error.message
    assert "no such user" in result.error.message


@sync(models=[Item], frequency="every hour", integration="fake")
async def chatty(nango: NangoSync) -> None:
    async for page in nango.paginate("/items", paginate=CURSOR):
        await nango.batch_save(page, Item)
    for k in range(MAX_LOGS_KEPT + 5):
        nango.log(f"line {k}")


async def test_a_long_runs_kept_logs_are_bounded_and_debug_lines_only_streamed(
    fake_api: FakeApi, provider: ProviderConfig, connection: Connection
) -> None:
    """Every request logs a debug line: a run kept them all in memory. Now the tee
    (``on_log``, the Activity log) gets them; the result keeps info and above, the last
    ``MAX_LOGS_KEPT``."""
    fake_api.route("/items", pages_of(items(40), 2))  # 20 requests, 20 debug lines
    streamed: list[str] = []
    result = await run_script(
        chatty,
        connection=connection,
        provider=provider,
        store=MemoryRecordStore(),
        log_level="debug",
        on_log=lambda record: streamed.append(record.level),
    )
    assert result.success, result.error
    assert streamed.count("debug") >= 20
    assert streamed.count("info") == MAX_LOGS_KEPT + 5
    assert all(log.level != "debug" for log in result.logs)
    assert len(result.logs) == MAX_LOGS_KEPT
    assert result.logs[0].message == "line 5"
    assert result.logs[-1].message == f"line {MAX_LOGS_KEPT + 4}"
