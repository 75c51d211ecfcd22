"""A real ``nango-scripts dev --json`` process, read event by event (a test helper)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"
EVENT_TIMEOUT_S = 60.0
"""Generous: a loaded 2-core machine can be slow; a test waits for events, never sleeps."""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the caller's NANGO_* settings, network through a dead proxy
    (so anything that tries to go online fails instead of succeeding)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NANGO", "WATCHFILES"))}
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    env.update(extra)
    return env


def save(path: Path, text: str) -> None:
    """Save as editors do, in one step (write aside, rename over): exactly one change."""
    aside = path.with_name(path.name + ".saving")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    save(path, text.replace(old, new, 1))


def _hear_ctrl_c() -> None:
    """In the child, before exec: SIGINT back to its default. A suite started in the
    background by a non-interactive shell (``.ci/run &``) inherits SIGINT ignored, and
    Python then leaves it ignored, so the Ctrl-C these tests send would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class DevProcess:
    """``nango-scripts dev ARGS`` in ``project``; its stdout parsed as JSON lines."""

    def __init__(self, project: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "dev", *args],
            cwd=project,
            env=dict(env) if env is not None else clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_hear_ctrl_c,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._errors: queue.Queue[str | None] = queue.Queue()
        self.lines: list[str] = []
        self.stderr = ""
        self.url = ""
        """The service's address, from its ``serving`` event (see :meth:`started`)."""
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr += line
            self._errors.put(line)
        self._errors.put(None)

    def stderr_containing(self, text: str, timeout: float = EVENT_TIMEOUT_S) -> str:
        """Skip stderr lines until one contains ``text`` (errors for humans go there)."""
        while True:
            try:
                line = self._errors.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"{text!r} not on stderr within {timeout}s") from None
            if line is None:
                raise AssertionError(f"dev exited; {text!r} not on stderr: {self.stderr}")
            if text in line:
                return line

    def next_line(self, timeout: float = EVENT_TIMEOUT_S) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"nothing within {timeout}s; stdout so far: {self.lines}"
            ) from None
        if line is None:
            self.process.wait(timeout=10)
            raise AssertionError(
                f"dev exited ({self.process.returncode}) instead of going on.\n"
                f"stdout: {''.join(self.lines)}\nstderr: {self.stderr}"
            )
        return line

    def next_event(self, timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        line = self.next_line(timeout)
        event: dict[str, Any] = json.loads(line)  # a line that is not JSON fails the test
        return event

    def line_containing(self, text: str) -> str:
        """Skip stdout lines until one contains ``text`` (human output)."""
        while text not in (line := self.next_line()):
            pass
        return line

    def expect(self, kind: str) -> dict[str, Any]:
        """The next event, which must be of this kind."""
        event = self.next_event()
        assert event["event"] == kind, (
            f"expected a {kind} event, got {event}\nstderr: {self.stderr}"
        )
        return event

    def started(self, *, runs: bool, serves: bool = False) -> dict[str, Any] | None:
        """The start-up events: the first load, the first run if any, the service's
        address if it serves (kept in ``url``), then watching."""
        self.expect("reloaded")
        first_run = self.expect("run") if runs else None
        if serves:
            self.url = self.expect("serving")["url"]
        self.expect("watching")
        return first_run

    def interrupt(self, signum: int = signal.SIGINT) -> int:
        """Ctrl-C (or another signal); the exit code (the process must end in time)."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=EVENT_TIMEOUT_S)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def __enter__(self) -> DevProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
