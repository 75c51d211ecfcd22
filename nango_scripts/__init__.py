"""nango-scripts: write Nango-style integration scripts in Python and run them.

The public names are imported lazily (PEP 562) so that ``nango-scripts --help``
and the CLI start without loading pydantic or httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nango_scripts.dsl import ActionSpec, SyncSpec, action, sync
    from nango_scripts.errors import (
        ActionError,
        ConfigError,
        HttpError,
        NangoScriptsError,
        ScriptDefinitionError,
    )
    from nango_scripts.http import Cursor, Link, Offset
    from nango_scripts.runtime import (
        BlockingNangoAction,
        BlockingNangoSync,
        NangoAction,
        NangoSync,
        RunResult,
        run_script,
    )

__version__ = "0.1.0"

_WHERE: dict[str, str] = {
    "sync": "nango_scripts.dsl",
    "action": "nango_scripts.dsl",
    "SyncSpec": "nango_scripts.dsl",
    "ActionSpec": "nango_scripts.dsl",
    "NangoSync": "nango_scripts.runtime",
    "NangoAction": "nango_scripts.runtime",
    "BlockingNangoSync": "nango_scripts.runtime",
    "BlockingNangoAction": "nango_scripts.runtime",
    "RunResult": "nango_scripts.runtime",
    "run_script": "nango_scripts.runtime",
    "Cursor": "nango_scripts.http",
    "Link": "nango_scripts.http",
    "Offset": "nango_scripts.http",
    "ActionError": "nango_scripts.errors",
    "ConfigError": "nango_scripts.errors",
    "HttpError": "nango_scripts.errors",
    "NangoScriptsError": "nango_scripts.errors",
    "ScriptDefinitionError": "nango_scripts.errors",
}

__all__ = [
    "ActionError",
    "ActionSpec",
    "BlockingNangoAction",
    "BlockingNangoSync",
    "ConfigError",
    "Cursor",
    "HttpError",
    "Link",
    "NangoAction",
    "NangoScriptsError",
    "NangoSync",
    "Offset",
    "RunResult",
    "ScriptDefinitionError",
    "SyncSpec",
    "__version__",
    "action",
    "run_script",
    "sync",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nango_scripts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
