"""Watching a project folder for the saves that matter to its scripts (watchfiles).

Only ``.py`` files and ``nango.toml`` count. Folders the loader never imports from are
ignored, and so is everything ``dev`` itself or the tools around it write: ``.nango/``
(the database), ``tests/`` (cassettes, snapshots), ``__pycache__``, ``.git`` and any
other hidden folder, virtualenvs, ``node_modules``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["ProjectChangeFilter", "watch_project"]

_IGNORED_FOLDERS = frozenset(
    {"tests", "node_modules", "venv", "env", "build", "dist", "site-packages", "__pycache__"}
)
# How often the watcher comes back to Python when nothing changes; its first return
# says that it is watching (watchfiles has no "ready" callback).
_IDLE_TIMEOUT_MS = 200


class ProjectChangeFilter:
    """A watchfiles filter: True for a change that can alter the project's scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, change: object, path: str) -> bool:
        try:
            relative = Path(path).relative_to(self.root)
        except ValueError:
            return False
        *folders, name = relative.parts or ("",)
        for folder in folders:
            if folder.startswith(".") or folder in _IGNORED_FOLDERS:
                return False
        if not folders and name == "nango.toml":
            return True
        return name.endswith(".py") and not name.startswith(".")


def watch_project(
    root: Path,
    *,
    debounce_ms: int,
    step_ms: int,
    on_ready: Callable[[], None] | None = None,
    stop_event: threading.Event | None = None,
) -> Iterator[set[Path]]:
    """Yield the set of relevant paths changed, one set per burst of saves.

    ``on_ready`` is called once the watcher is in place (changes from then on are
    seen). Ends quietly on Ctrl-C (and when ``stop_event`` is set).
    """
    import logging

    import watchfiles

    # Its "KeyboardInterrupt caught, stopping watch" warning would be noise on Ctrl-C.
    logging.getLogger("watchfiles").setLevel(logging.ERROR)
    ready = on_ready
    for changes in watchfiles.watch(
        root,
        watch_filter=ProjectChangeFilter(root),
        debounce=debounce_ms,
        step=step_ms,
        stop_event=stop_event,
        rust_timeout=_IDLE_TIMEOUT_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if ready is not None:
            ready()
            ready = None
        if changes:
            yield {Path(path) for _, path in changes}
