"""Mistakes a Python developer makes in a script end in a clear failure, never a silent success."""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, Field
from support.fakeapi import FakeApi

from nango_scripts import BlockingNangoSync, NangoSync, sync
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import RunResult, run_script
from nango_scripts.store import MemoryRecordStore

from .conftest import make_connection, pages_of

pytestmark = pytest.mark.anyio
NOWHERE = ProviderConfig(name="fake", base_url="http://127.0.0.1:9")


class Author(BaseModel):
    name: str
    karma: int = 0


class Post(BaseModel):
    id: int
    title: str
    created_at: datetime = Field(alias="createdAt")
    author: Author
    tags: list[str] = []


async def run(spec: Any, store: MemoryRecordStore | None = None, **kwargs: Any) -> RunResult:
    return await run_script(
        spec,
        connection=make_connection(),
        provider=kwargs.pop("provider", NOWHERE),
        store=store or MemoryRecordStore(),
        **kwargs,
    )


@sync(models=[Post], frequency="every hour", integration="fake")
async def forgets_await(nango: NangoSync) -> None:
    nango.batch_save([{"id": 1}], Post)  # type: ignore[unused-awaitable]


async def test_a_call_without_await_fails_the_run_at_its_line() -> None:
    result = await run(forgets_await)
    assert not result.success and result.error is not None
    assert "nango.batch_save() at " in result.error.message
    assert "test_script_mistakes.py:" in result.error.message
    assert "was never awaited" in result.error.message


@sync(models=[Post], frequency="every hour", integration="fake")
async def saves_instances(nango: NangoSync) -> None:
    raw = {"id": 7, "title": "t", "createdAt": "2024-05-01T00:00:00Z", "author": {"name": "a"}}
    await nango.batch_save([Post.model_validate(raw)], Post)


async def test_instances_of_the_model_are_saved_as_they_are() -> None:
    store = MemoryRecordStore()
    result = await run(saves_instances, store)
    assert result.success, result.error
    assert store.models["Post"].saved == [
        {
            "id": 7,
            "title": "t",
            "created_at": "2024-05-01T00:00:00Z",
            "author": {"name": "a", "karma": 0},
            "tags": [],
        }
    ]


@sync(models=[Post], frequency="every hour", integration="fake")
async def updates(nango: NangoSync) -> None:
    raw = {"id": 1, "title": "t", "createdAt": "2024-05-01T00:00:00Z", "author": {"name": "a"}}
    await nango.batch_save([raw], Post)
    await nango.batch_update(
        [
            {"id": 1, "author": {"karma": 5}, "tags": ["x"]},  # nested partial: fine
            {"id": 2, "title": 123},  # wrong type
            {"id": 3, "bogus": True},  # unknown field
            {"id": 4, "author": {"karma": "lots"}},  # wrong type inside a nested partial
            {"title": "no id"},
        ],
        Post,
    )


async def test_batch_update_checks_every_field_of_a_partial_record() -> None:
    store = MemoryRecordStore()
    result = await run(updates, store)
    assert result.success, result.error
    assert result.models["Post"].updated == 1
    assert result.models["Post"].invalid == 4
    assert store.models["Post"].updated == [
        {
            "id": 1,
            "title": "t",
            "created_at": "2024-05-01T00:00:00Z",
            "author": {"name": "a", "karma": 5},
            "tags": ["x"],
        }
    ]
    problems = {(r.record_id, r.field) for r in result.invalid_records}
    assert problems == {("2", "title"), ("3", "bogus"), ("4", "author.karma"), (None, "id")}


async def test_batch_update_problems_fail_the_run_with_validate() -> None:
    result = await run(updates, strict_validation=True)
    assert result.error is not None and result.error.type == "validation_error"


def _logged(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@sync(models=[Post], frequency="every hour", integration="fake")
@_logged
async def wrapped(nango: NangoSync) -> int:
    raw = {"id": 1, "title": "t", "createdAt": "2024-05-01T00:00:00Z", "author": {"name": "a"}}
    await nango.batch_save([raw], Post)
    return 42


async def test_an_async_script_behind_a_plain_decorator_runs_and_a_returned_value_is_flagged() -> (
    None
):
    result = await run(wrapped)
    assert result.success, result.error
    assert result.models["Post"].saved == 1
    assert any("returned a int, which is ignored" in log.message for log in result.logs)


@sync(models=[Post], frequency="every hour", integration="fake")
def exits(nango: BlockingNangoSync) -> None:
    sys.exit(3)


async def test_sys_exit_in_a_script_is_a_failed_run() -> None:
    result = await run(exits)
    assert result.error is not None and result.error.type == "script_error"
    assert "SystemExit" in result.error.message
    assert result.error.traceback is not None and "sys.exit(3)" in result.error.traceback


KEPT: list[Iterator[list[Any]]] = []


@sync(models=[Post], frequency="every hour", integration="fake")
def reads_one_page(nango: BlockingNangoSync) -> None:
    pages = nango.paginate(
        "/items",
        paginate={
            "type": "cursor",
            "cursor_path_in_response": "next",
            "cursor_name_in_request": "cursor",
            "response_path": "data",
        },
    )
    next(pages)
    KEPT.append(pages)  # outlives the run


def test_a_half_read_blocking_iterator_outliving_the_run_is_harmless(fake_api: FakeApi) -> None:
    fake_api.route("/items", pages_of([{"id": i} for i in range(10)], 2))
    provider = ProviderConfig(name="fake", base_url=fake_api.url)
    result = asyncio.run(run(reads_one_page, provider=provider))
    assert result.success, result.error
    KEPT.clear()
    gc.collect()  # an error while closing it would surface here as an unraisable exception
