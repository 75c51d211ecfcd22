"""How a source file is named in error messages: relative to the project being loaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

__all__ = ["display_path", "project_root"]

_root: ContextVar[Path | None] = ContextVar("nango_scripts_project_root", default=None)


@contextmanager
def project_root(path: Path) -> Iterator[None]:
    """While loading a project, show its files relative to ``path``."""
    token = _root.set(path)
    try:
        yield
    finally:
        _root.reset(token)


def display_path(path: str | Path) -> str:
    """``github/syncs/issues.py`` rather than an absolute path, where possible.

    Relative to the project being loaded, else to the current directory, else as is.
    """
    file = Path(path)
    bases = [base for base in (_root.get(), _cwd()) if base is not None]
    for base in bases:
        if file.is_relative_to(base):
            return file.relative_to(base).as_posix()
    return str(file)


def _cwd() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the current directory was deleted
        return None
