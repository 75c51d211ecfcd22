"""``nango-scripts serve`` as users run it: a generated secret key, shown once, kept."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
from support.fakeapi import FakeApi
from support.server_harness import KEY, free_port, make_project, serve, stop, wait_healthy


def test_the_secret_key_is_created_once_and_printed_once(tmp_path: Path, fake_api: FakeApi) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "NANGO_SECRET_KEY" and not k.startswith("NANGO_SCRIPTS_")
    }
    env.update(make_project(tmp_path, fake_api))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first_log = tmp_path / "first.log"
    process = serve(env, port, first_log)
    try:
        wait_healthy(url, process, first_log)
        keys = KEY.findall(first_log.read_text())
        assert len(keys) == 1, first_log.read_text()
        key = keys[0]
        assert httpx.get(url + "/connections").status_code == 401
        answer = httpx.get(url + "/connections", headers={"Authorization": f"Bearer {key}"})
        assert (answer.status_code, answer.json()) == (200, {"connections": []})
    finally:
        stop(process, first_log)

    second_log = tmp_path / "second.log"
    process = serve(env, port, second_log)
    try:
        wait_healthy(url, process, second_log)
        assert not KEY.search(second_log.read_text()), second_log.read_text()
        assert "secret key" not in second_log.read_text()
        answer = httpx.get(url + "/integrations", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
        assert [i["unique_key"] for i in answer.json()["data"]] == ["fake", "oauthy", "other"]
    finally:
        stop(process, second_log)


def test_ctrl_c_stops_serve_cleanly_with_exit_0(tmp_path: Path, fake_api: FakeApi) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    env.update(make_project(tmp_path, fake_api), NANGO_SECRET_KEY="sk_test_ctrl_c_0123456789")
    port = free_port()
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
    except BaseException:
        stop(process, log)
        raise
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=20)
    output = log.read_text()
    assert code == 0, output
    assert "Aborted" not in output and "Traceback" not in output
    assert "Application shutdown complete" in output
