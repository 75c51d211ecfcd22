"""``nango-scripts run``: real runs into the records store, as the scheduler will do them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.cli_project import API_KEY, invoke, make_project, serve_items
from support.fakeapi import FakeApi, Received

from nango_scripts.settings import load_settings
from nango_scripts.store import RecordQuery, RecordScope, SqlRecordStore

MEMBERS_SYNC = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Member(BaseModel):
    id: str
    name: str


@sync(models=[Member], frequency="every day", sync_type="full", track_deletes=True)
async def members(nango: NangoSync) -> None:
    response = await nango.get("/members")
    await nango.batch_save(response.json(), Member)
"""

SCOPE = RecordScope("dev", "fake", "c1")


@pytest.fixture
def project(tmp_path: Path, fake_api: FakeApi) -> dict[str, str]:
    env = make_project(tmp_path, fake_api)
    (Path(env["NANGO_SCRIPTS_PROJECT"]) / "fake" / "syncs" / "members.py").write_text(MEMBERS_SYNC)
    return env


def run_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = invoke(env, "run", *args, "--json")
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def records(env: dict[str, str], model: str) -> list[dict[str, Any]]:
    with SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"]) as store:
        return store.list_records(RecordQuery(SCOPE, model, limit=1000)).records


def test_first_run_adds_then_unchanged_then_updated(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    first = run_json(project, "items", "c1")
    assert first["success"] is True and first["script"] == "items"
    assert set(first) == {"script", "success", "duration_s", "models", "timings"}
    assert set(first["timings"]) == {
        "run_s",
        "writer_busy_s",
        "writer_cpu_s",
        "commits",
        "script_waited_s",
    }
    assert first["timings"]["run_s"] >= first["duration_s"]
    assert first["timings"]["commits"] >= 1
    assert first["models"] == {
        "Item": {"added": 5, "updated": 0, "deleted": 0, "unchanged": 0, "invalid": 0}
    }
    assert isinstance(first["duration_s"], float) and first["duration_s"] > 0
    assert "since" not in fake_api.requests_to("/items")[0].query

    second = run_json(project, "items", "c1")
    assert second["models"]["Item"] == {
        "added": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 5,
        "invalid": 0,
    }
    # the second run got the first run's start as last_sync_date
    since = fake_api.requests_to("/items")[3].query["since"]
    assert since.startswith(records(project, "Item")[0]["_nango_metadata"]["first_seen_at"][:10])

    fake_api.route("/items", serve_items([{"id": str(i), "n": i * 10} for i in range(6)]))
    third = run_json(project, "items", "c1")
    assert third["models"]["Item"] == {
        "added": 1,
        "updated": 4,
        "deleted": 0,
        "unchanged": 1,
        "invalid": 0,
    }
    stored = {r["id"]: r for r in records(project, "Item")}
    assert stored["5"]["n"] == 50 and stored["5"]["_nango_metadata"]["last_action"] == "ADDED"
    assert stored["0"]["_nango_metadata"]["last_action"] == "ADDED"  # unchanged all along


def test_full_ignores_last_sync_date(project: dict[str, str], fake_api: FakeApi) -> None:
    run_json(project, "items", "c1")
    run_json(project, "items", "c1", "--full")
    assert "since" not in fake_api.requests_to("/items")[-1].query


def test_track_deletes_after_success_and_none_after_failure(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    people = [{"id": "a", "name": "Ada"}, {"id": "b", "name": "Bob"}, {"id": "c", "name": "Cy"}]
    fake_api.route("/members", lambda r: (200, {}, people))
    assert run_json(project, "members", "c1")["models"]["Member"]["added"] == 3

    fake_api.route("/members", lambda r: (404, {}, {"message": "gone for now"}))
    failed = run_json(project, "members", "c1")
    assert failed["success"] is False and failed["models"]["Member"]["deleted"] == 0
    assert all(r["_nango_metadata"]["deleted_at"] is None for r in records(project, "Member"))

    fake_api.route("/members", lambda r: (200, {}, people[:2]))
    after = run_json(project, "members", "c1")
    assert after["models"]["Member"] == {
        "added": 0,
        "updated": 0,
        "deleted": 1,
        "unchanged": 2,
        "invalid": 0,
    }
    gone = {r["id"]: r for r in records(project, "Member")}["c"]
    assert gone["_nango_metadata"]["last_action"] == "DELETED"
    assert gone["name"] == "Cy"  # the last data is kept


def test_a_failed_run_does_not_advance_last_sync_date(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    run_json(project, "items", "c1")
    settings = load_settings(project["NANGO_SCRIPTS_PROJECT"], project)

    def last_date() -> Any:
        with SqlRecordStore.open(settings.database_url) as store:
            return store.get_last_sync_date(SCOPE, "items")

    before = last_date()
    assert before is not None

    def broken(request: Received) -> Any:
        return 400, {}, {"message": "bad request"}

    fake_api.route("/items", broken)
    result = invoke(project, "run", "items", "c1")
    assert result.exit_code == 1
    assert "400" in result.stderr
    assert last_date() == before


def test_a_failed_run_never_prints_the_credentials_an_api_echoes(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    fake_api.route("/items", lambda r: (401, {}, {"unknown key": r.headers.get("x-key")}))
    result = invoke(project, "run", "items", "c1")
    assert result.exit_code == 1
    # Both the run's log line and the final error quote the body, masked.
    assert result.stderr.count('401 Unauthorized: {"unknown key": "***"}') == 2
    assert API_KEY not in result.output


def test_run_refuses_an_action_and_dryrun_stores_nothing(project: dict[str, str]) -> None:
    refused = invoke(project, "run", "greet", "c1")
    assert refused.exit_code == 2 and "is an action" in refused.output
    assert invoke(project, "dryrun", "items", "c1").exit_code == 0
    assert records(project, "Item") == []
