"""What ``dev --run`` reports between two runs: pure comparisons, no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from nango_scripts.engine._dev import changed_fields, diff_records, final_records
from nango_scripts.engine._watch import ProjectChangeFilter


def _run(*saved: dict[str, object], **lists: list[dict[str, object]]) -> dict[str, object]:
    return {"Issue": {"saved": list(saved), "updated": [], "deleted": [], **lists}}


def test_added_removed_and_changed_records_with_their_fields() -> None:
    before = _run({"id": "1", "title": "a", "state": "open"}, {"id": "2", "title": "b"})
    after = _run({"id": "1", "title": "A", "state": "open"}, {"id": "3", "title": "c"})
    changes = diff_records(before, after)  # type: ignore[arg-type]
    assert {m: c.as_dict() for m, c in changes.items()} == {
        "Issue": {"added": ["3"], "removed": ["2"], "changed": {"1": ["title"]}}
    }


def test_identical_runs_have_no_changes_and_key_order_does_not_matter() -> None:
    before = _run({"id": 1, "a": 1, "b": {"x": 1, "y": 2}})
    after = _run({"b": {"y": 2, "x": 1}, "a": 1, "id": 1})
    assert diff_records(before, after) == {}  # type: ignore[arg-type]


def test_a_model_that_appears_or_disappears_is_all_added_or_removed() -> None:
    before = {"Issue": {"saved": [{"id": "1"}]}}
    after = {"Label": {"saved": [{"id": "bug"}]}}
    changes = diff_records(before, after)
    assert changes["Issue"].removed == ["1"] and changes["Label"].added == ["bug"]


def test_final_records_apply_updates_then_deletes() -> None:
    run = {
        "Issue": {
            "saved": [{"id": "1", "title": "a", "state": "open"}, {"id": "2", "title": "b"}],
            "updated": [{"id": "1", "state": "closed"}],
            "deleted": [{"id": "2"}],
        }
    }
    assert final_records(run) == {"Issue": {"1": {"id": "1", "title": "a", "state": "closed"}}}


@pytest.mark.parametrize(
    ("old", "new", "fields"),
    [
        ({"user": {"login": "a", "id": 1}}, {"user": {"login": "b", "id": 1}}, ["user.login"]),
        ({"labels": ["a"]}, {"labels": ["a", "b"]}, ["labels"]),
        ({"a": 1}, {"a": 1, "b": None}, ["b"]),
        ({"a": 1, "_nango_metadata": {"x": 1}}, {"a": 1, "_nango_metadata": {"x": 2}}, []),
        ("text", "other", ["."]),
        (None, {"a": 1}, ["."]),
        ({"n": 1}, {"n": 1.0}, []),
    ],
)
def test_changed_fields(old: object, new: object, fields: list[str]) -> None:
    assert changed_fields(old, new) == fields


@pytest.mark.parametrize(
    ("relative", "relevant"),
    [
        ("github/syncs/issues.py", True),
        ("github/models.py", True),
        ("nango.toml", True),
        ("github/nango.toml", False),
        ("github/tests/cassettes/issues.yaml", False),
        ("github/tests/snapshots/issues.json", False),
        ("github/tests/test_issues.py", False),
        (".nango/nango.db", False),
        (".nango/nango.db-journal", False),
        (".git/index", False),
        ("github/syncs/__pycache__/issues.cpython-311.pyc", False),
        ("github/syncs/.issues.py.swp", False),
        ("github/syncs/issues.py~", False),
        ("venv/lib/site.py", False),
        ("README.md", False),
    ],
)
def test_only_saves_that_can_change_scripts_trigger_a_reload(
    tmp_path: Path, relative: str, relevant: bool
) -> None:
    accept = ProjectChangeFilter(tmp_path)
    assert accept(None, str(tmp_path / relative)) is relevant
    assert accept(None, "/elsewhere/" + relative) is False
