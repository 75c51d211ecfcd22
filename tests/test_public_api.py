"""The public names are exactly the curated ``__all__`` lists, and every one resolves."""

from __future__ import annotations

import importlib
import types

import pytest

import nango_scripts

EXPECTED_TOP_LEVEL = {
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
}

PACKAGES = [
    "nango_scripts",
    "nango_scripts.dsl",
    "nango_scripts.http",
    "nango_scripts.store",
    "nango_scripts.runtime",
    "nango_scripts.engine",
    "nango_scripts.providers",
    "nango_scripts.settings",
    "nango_scripts.errors",
]


def test_top_level_names_are_the_documented_ones() -> None:
    assert set(nango_scripts.__all__) == EXPECTED_TOP_LEVEL
    assert len(nango_scripts.__all__) == len(set(nango_scripts.__all__))


@pytest.mark.parametrize("name", sorted(EXPECTED_TOP_LEVEL))
def test_every_top_level_name_resolves(name: str) -> None:
    assert getattr(nango_scripts, name) is not None


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = nango_scripts.nope  # type: ignore[attr-defined]


@pytest.mark.parametrize("package", PACKAGES)
def test_public_names_match_all(package: str) -> None:
    module = importlib.import_module(package)
    exported = set(module.__all__)
    for name in exported:
        assert hasattr(module, name), f"{package}.{name} is in __all__ but missing"
    public = {
        name
        for name, value in vars(module).items()
        if (
            not name.startswith("_")
            and name != "annotations"  # from __future__ import annotations
            and not isinstance(value, types.ModuleType)
            and (getattr(value, "__module__", "") or "").startswith("nango_scripts")
        )
        or name in exported
    }
    if package == "nango_scripts":
        public |= exported  # lazy: names appear in vars() only once used
    assert public == exported, f"{package}: public names differ from __all__"
