"""A run killed with SIGKILL loses no batch that was saved, and the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

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
        await nango.batch_save(items, Item)
        # batch_save returned: these ids must survive anything from here on
        with open(journal, "a") as out:
            out.write(" ".join(item["id"] for item in items) + "\\n")
            out.flush()
            os.fsync(out.fileno())
        await nango.save_checkpoint({"page": page + 1})
        page += 1
"""


def serve_pages(request: Received) -> Any:
    time.sleep(0.05)  # slow enough to be killed in the middle
    page = int(request.query["page"])
    if page >= PAGES:
        return 200, {}, []
    return 200, {}, [{"id": f"{page}-{i}", "n": i} for i in range(PER_PAGE)]


def test_sigkill_loses_no_saved_batch_and_the_next_run_resumes(
    tmp_path: Path, fake_api: FakeApi
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
            if journal.exists() and len(journal.read_text().splitlines()) >= 5:
                break
            assert child.poll() is None, stderr.read_text()
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    returned = [line.split() for line in journal.read_text().splitlines()]
    assert 5 <= len(returned) < PAGES, "the run was not killed in the middle"
    scope = RecordScope("dev", "fake", "c2")
    with SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"]) as store:
        stored = {
            r["id"] for r in store.list_records(RecordQuery(scope, "Item", limit=10_000)).records
        }
        checkpoint = store.get_checkpoint(scope, "slow")
    saved_ids = {rid for line in returned for rid in line}
    assert saved_ids <= stored, f"lost {len(saved_ids - stored)} records of returned batches"
    assert checkpoint is not None
    # the checkpoint is saved right after the journal line: it is that page or the one before
    assert checkpoint["page"] in (len(returned) - 1, len(returned))

    requests_before = len(fake_api.requests_to("/pages"))
    resumed = invoke(env, "run", "slow", "c2", "--json")
    assert resumed.exit_code == 0, resumed.output
    first_request = fake_api.requests_to("/pages")[requests_before]
    assert first_request.query["page"] == str(checkpoint["page"])
    with SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"]) as store:
        final = store.list_records(RecordQuery(scope, "Item", limit=10_000)).records
    assert len(final) == PAGES * PER_PAGE
