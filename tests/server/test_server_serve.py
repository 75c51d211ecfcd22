"""``nango-scripts serve`` as users run it: a generated secret key, shown once, kept."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fakeapi import FakeApi
from server_harness import make_project

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"
KEY = re.compile(r"nango_sk_[0-9a-f]{64}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"serve never became healthy:\n{log.read_text()}")


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(CONSOLE_SCRIPT), "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM: a graceful shutdown (uvicorn then re-raises the signal, as it should)."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)
    assert code in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()


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
