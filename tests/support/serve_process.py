"""`nango-scripts serve` as a subprocess for the webhook tests: start it, wait until it
answers /health, stop it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from support.waiting import eventually
from support.webhook_receiver import free_port

__all__ = ["CONSOLE_SCRIPT", "start_serve", "stop_serve"]

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"


def start_serve(
    env: dict[str, str], log: Path, *, timeout_s: float = 20, stderr_log: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Serve on a free port, its output appended to ``log`` (its stderr to ``stderr_log``
    when given); returns once it is healthy (or stops it and fails the test, with the log
    if it exited)."""
    port = free_port()
    with log.open("ab") as out, (stderr_log or log).open("ab") as err:
        process = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )

    def healthy() -> bool:
        if process.poll() is not None:
            output = log.read_text() + (stderr_log.read_text() if stderr_log else "")
            raise AssertionError(f"serve exited:\n{output}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        eventually(healthy, "serve to start", seconds=timeout_s)
    except BaseException:
        stop_serve(process)  # not left running when it never became healthy
        raise
    return process, port


def stop_serve(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and a kill if it has not exited 20 s later."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
