"""Cassettes and snapshots: record a script's HTTP once, replay it with the network closed.

- ``nango-scripts dryrun NAME CONNECTION_ID --save-responses`` records every exchange into
  ``<integration>/tests/cassettes/<script>.yaml`` (vcrpy YAML, secrets scrubbed) and the
  outputs into ``<integration>/tests/snapshots/<script>.json``;
- ``dryrun --replay``, :func:`run_script_from_cassette` and the pytest plugin
  (:mod:`nango_scripts.testing.plugin`) run the script from its cassette, with no network,
  no credentials and no stored connection.

This package is the only place vcrpy is imported (DESIGN.md). Its names are imported
lazily (PEP 562): pytest imports this package for the plugin in every test run, also
outside nango-scripts projects, where it must cost nothing. docs/testing.md tells the
whole story.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nango_scripts.testing._errors import CassetteError
    from nango_scripts.testing._pack_check import (
        check_pack,
        integration_section,
        integration_table,
    )
    from nango_scripts.testing._paths import cassette_path, replay_cassette, snapshot_path
    from nango_scripts.testing._record import Recording, record_dryrun
    from nango_scripts.testing._replay import Replay, ScriptRun, run_script_from_cassette
    from nango_scripts.testing._snapshot import load_snapshot, snapshot_diff

_WHERE: dict[str, str] = {
    "CassetteError": "nango_scripts.testing._errors",
    "Recording": "nango_scripts.testing._record",
    "Replay": "nango_scripts.testing._replay",
    "ScriptRun": "nango_scripts.testing._replay",
    "check_pack": "nango_scripts.testing._pack_check",
    "integration_section": "nango_scripts.testing._pack_check",
    "integration_table": "nango_scripts.testing._pack_check",
    "cassette_path": "nango_scripts.testing._paths",
    "load_snapshot": "nango_scripts.testing._snapshot",
    "record_dryrun": "nango_scripts.testing._record",
    "replay_cassette": "nango_scripts.testing._paths",
    "run_script_from_cassette": "nango_scripts.testing._replay",
    "snapshot_diff": "nango_scripts.testing._snapshot",
    "snapshot_path": "nango_scripts.testing._paths",
}

__all__ = [
    "CassetteError",
    "Recording",
    "Replay",
    "ScriptRun",
    "cassette_path",
    "check_pack",
    "integration_section",
    "integration_table",
    "load_snapshot",
    "record_dryrun",
    "replay_cassette",
    "run_script_from_cassette",
    "snapshot_diff",
    "snapshot_path",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nango_scripts.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
