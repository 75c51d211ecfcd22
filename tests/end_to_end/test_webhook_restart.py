"""Deliveries survive the process: ``nango-scripts run`` and ``serve`` as real
subprocesses, a receiver that is down, serve killed with SIGKILL (also in the middle of
a POST) and started again: every expected delivery arrives, once accepted."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from support.serve_process import CONSOLE_SCRIPT, start_serve
from support.waiting import eventually
from support.webhook_receiver import Receiver, free_port

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore, OutboxItem, WebhookOutbox

SECRET = "sk_test_restart"

TICKER = """
import time

from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Tick(BaseModel):
    id: str
    at: int


@sync(models=[Tick], frequency="every hour")
async def ticker(nango: NangoSync) -> None:
    await nango.batch_save([Tick(id="t", at=time.time_ns())], Tick)
"""


def project(tmp_path: Path, hook_port: int, timeout_s: str = "1") -> dict[str, str]:
    root = tmp_path / "proj"
    (root / "fake" / "syncs").mkdir(parents=True)
    (root / "fake" / "syncs" / "ticker.py").write_text(TICKER)
    (root / "nango.toml").write_text(
        '[integrations.fake]\nbase_url = "http://127.0.0.1:9"\n\n'
        f'[webhooks]\nurl = "http://127.0.0.1:{hook_port}/hook"\n'
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("NANGO_", "NANGO_SCRIPTS_"))
    } | {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_SECRET_KEY": SECRET,
        "NANGO_WEBHOOK_RETRY_BASE_S": "0.1",
        "NANGO_WEBHOOK_RETRY_MAX_S": "0.3",
        "NANGO_WEBHOOK_MAX_ATTEMPTS": "1000",
        "NANGO_WEBHOOK_TIMEOUT_S": timeout_s,
    }
    with ConnectionStore.open(load_settings(root, env)) as connections:
        connections.create("fake", "c1", {})
    return env


def outbox_rows(env: dict[str, str]) -> list[OutboxItem]:
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    with WebhookOutbox.open(settings.database_url) as outbox:
        return outbox.items()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_a_receiver_down_across_run_and_a_killed_serve_gets_every_delivery(
    tmp_path: Path,
) -> None:
    hook_port = free_port()
    env = project(tmp_path, hook_port)
    log = tmp_path / "serve.log"
    # two runs while the receiver is down: each tries once, keeps its webhook
    for _ in range(2):
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), "run", "ticker", "c1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "webhooks: 0 delivered, 1 not accepted yet" in done.stderr, done.stderr
    assert [r.attempts for r in outbox_rows(env)] == [1, 1]
    # serve runs the sync (auto_start) and retries, still into the void, then dies
    first, _ = start_serve(env, log)
    eventually(lambda: len(outbox_rows(env)) == 3, "the scheduled run's webhook")
    eventually(lambda: min(r.attempts for r in outbox_rows(env)) >= 3, "a few retries")
    kill(first)
    assert {r.status for r in outbox_rows(env)} == {"pending"}
    # the receiver comes back; so does serve: everything arrives
    with Receiver(hook_port) as receiver:
        second, _ = start_serve(env, log)
        try:
            receiver.wait_for(3, timeout_s=20)
            eventually(
                lambda: {r.status for r in outbox_rows(env)} == {"delivered"}, "all delivered"
            )
        finally:
            kill(second)
    rows = outbox_rows(env)
    assert len(rows) == 3
    assert Counter(d.id for d in receiver.accepted()) == Counter(r.id for r in rows)
    assert [d.json()["syncType"] for d in receiver.accepted()].count("INITIAL") == 1


def test_serve_killed_in_the_middle_of_a_post_sends_it_again(tmp_path: Path) -> None:
    hook_port = free_port()
    env = project(tmp_path, hook_port)
    log = tmp_path / "serve.log"
    hanging = Receiver(hook_port, delay_s=5).start()
    try:
        first, _ = start_serve(env, log)
        eventually(lambda: len(hanging.arrivals) == 1, "the POST to arrive")
        kill(first)  # the POST is in flight: no answer was recorded
    finally:
        hanging.stop()
    [row] = outbox_rows(env)
    assert (row.status, row.attempts) == ("pending", 1)
    with Receiver(hook_port) as receiver:
        second, _ = start_serve(env, log)
        try:
            # due again when the claim's lease ends (timeout + a margin)
            receiver.wait_for(1, timeout_s=30)
            eventually(lambda: outbox_rows(env)[0].status == "delivered", "delivered")
        finally:
            kill(second)
    [post] = receiver.accepted()
    assert post.id == row.id
    assert outbox_rows(env)[0].attempts == 2
