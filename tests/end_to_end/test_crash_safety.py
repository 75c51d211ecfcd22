"""A run killed with SIGKILL at any point: the next run resumes from the last committed
checkpoint, and what was stored plus what it fetches again is complete.

``batch_save`` hands records to the run's writer and returns before they are committed
(the writer commits them in groups while the script fetches the next page), so a kill
may lose the last batches a script handed over. What must hold is the order: a
checkpoint is committed with or after every record saved before it, so the checkpoint
stored never covers a record that is missing, and resuming from it fetches the rest.
A run that returned reported only committed records (it waits for its writer)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from support.cli_project import API_KEY, CONSOLE_SCRIPT, invoke, make_project
from support.fakeapi import FakeApi, Received

from nango_scripts.store import RecordQuery, RecordScope, SqlRecordStore

PAGES, PER_PAGE = 30, 50

SLOW_SYNC = """
import os

from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", sync_type="full")
async def slow(nango: NangoSync) -> None:
    checkpoint = await nango.get_checkpoint() or {}
    page = int(checkpoint.get("page", 0))
    journal = (await nango.get_metadata())["journal"]
    while True:
        items = (await nango.get("/pages", params={"page": page})).json()
        if not items:
            break
        # fetched: the test kills the run once enough pages are
        with open(journal, "a") as out:
            out.write(" ".join(item["id"] for item in items) + "\\n")
            out.flush()
            os.fsync(out.fileno())
        await nango.batch_save(items, Item)
        await nango.save_checkpoint({"page": page + 1})
        page += 1
"""


def serve_pages(request: Received) -> Any:
    time.sleep(0.05)  # slow enough to be killed in the middle
    page = int(request.query["page"])
    if page >= PAGES:
        return 200, {}, []
    return 200, {}, [{"id": f"{page}-{i}", "n": i} for i in range(PER_PAGE)]


@pytest.mark.parametrize("kill_after_pages", [1, 5, 13])
def test_after_a_sigkill_the_checkpoint_covers_only_stored_records_and_the_next_run_completes(
    tmp_path: Path, fake_api: FakeApi, kill_after_pages: int
) -> None:
    env = make_project(tmp_path, fake_api)
    (Path(env["NANGO_SCRIPTS_PROJECT"]) / "fake" / "syncs" / "slow.py").write_text(SLOW_SYNC)
    fake_api.route("/pages", serve_pages)
    journal = tmp_path / "journal.txt"
    created = invoke(
        env,
        "connections",
        "create",
        "fake",
        "c2",
        "--credentials",
        json.dumps({"type": "API_KEY", "apiKey": API_KEY}),
        "--metadata",
        json.dumps({"journal": str(journal)}),
    )
    assert created.exit_code == 0, created.output

    stderr = tmp_path / "child-stderr.txt"
    with stderr.open("w") as err:
        child = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "run", "slow", "c2"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and len(journal.read_text().splitlines()) >= kill_after_pages:
                break
            assert child.poll() is None, stderr.read_text()
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    fetched = [line.split() for line in journal.read_text().splitlines()]
    assert kill_after_pages <= len(fetched) < PAGES, "the run was not killed in the middle"
    scope = RecordScope("dev", "fake", "c2")
    with SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"]) as store:
        stored = {
            r["id"] for r in store.list_records(RecordQuery(scope, "Item", limit=10_000)).records
        }
        checkpoint = store.get_checkpoint(scope, "slow")
    assert stored <= {rid for line in fetched for rid in line}
    resume_from = checkpoint["page"] if checkpoint is not None else 0
    covered = {rid for line in fetched[:resume_from] for rid in line}
    assert covered <= stored, f"the checkpoint covers {len(covered - stored)} missing records"

    requests_before = len(fake_api.requests_to("/pages"))
    resumed = invoke(env, "run", "slow", "c2", "--json")
    assert resumed.exit_code == 0, resumed.output
    first_request = fake_api.requests_to("/pages")[requests_before]
    assert first_request.query["page"] == str(resume_from)
    with SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"]) as store:
        final = store.list_records(RecordQuery(scope, "Item", limit=10_000)).records
    assert len(final) == PAGES * PER_PAGE
