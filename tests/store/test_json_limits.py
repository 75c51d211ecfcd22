"""The limits of JSON values (nesting, size, text), pure functions: what the server's door,
the connection store and an action's output apply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nango_scripts.errors import LimitError
from nango_scripts.store import (
    MAX_JSON_DEPTH,
    MAX_STORED_JSON_BYTES,
    check_stored_json,
    json_body_problem,
    json_value_problem,
    read_stored_json,
    size_text,
)
from nango_scripts.store._connections import ConnectionStore

from .conftest import BACKENDS, database_url, settings_for


def nested(levels: int) -> dict[str, Any]:
    """``levels`` objects, one inside the other."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_depth_counts_objects_and_arrays() -> None:
    assert json_value_problem(nested(MAX_JSON_DEPTH)) is None
    assert json_value_problem([[{"a": [1]}]], max_depth=4) is None
    assert json_value_problem([[{"a": [[]]}]], max_depth=4) == (
        "nests deeper than 4 levels of objects and arrays"
    )
    problem = json_value_problem(nested(MAX_JSON_DEPTH + 1))
    assert problem == f"nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays"
    assert json_value_problem("text") is None
    assert json_value_problem(1) is None


def test_a_value_far_deeper_than_python_recursion_is_measured() -> None:
    assert json_value_problem(nested(100_000)) is not None


def test_lone_surrogates_in_keys_or_strings_are_refused_pairs_are_fine() -> None:
    assert json_value_problem({"a": ["\U0001f600", "é"]}) is None
    for bad in ({"a": "\ud800"}, {"\udfff": 1}, ["ok", ["x\udc00y"]], "\ud800"):
        problem = json_value_problem(bad)
        assert problem is not None and "lone surrogate" in problem


def test_nul_counts_only_where_asked() -> None:
    assert json_value_problem({"a": "x\x00"}) is None
    assert json_value_problem({"a": "x\x00"}, nul=True) == "contains a NUL character (\\u0000)"
    assert json_value_problem({"\x00": 1}, nul=True) is not None


def test_a_body_is_checked_as_it_is_written() -> None:
    assert json_body_problem(json.dumps(nested(MAX_JSON_DEPTH)).encode()) is None
    deep = json.dumps({"metadata": nested(300)}).encode()
    assert json_body_problem(deep) == "nests deeper than 64 levels of objects and arrays"
    # deeper than the json module itself can parse
    assert json_body_problem(b"[" * 100_000 + b"]" * 100_000) is not None
    assert json_body_problem(b'{"input": "\\ud800"}') is not None  # an escape
    assert json_body_problem(b'{"input": "\xed\xa0\x80"}') is not None  # its raw bytes
    assert json_body_problem(b'{"ok": "\\ud83d\\ude00 \\u00e9"}') is None
    assert json_body_problem(b'{"ok": "\\\\ud800"}') is None  # a backslash, then "ud800"
    assert json_body_problem(b'{"connection_id": "c\\u0000"}') is not None
    assert json_body_problem(b"not json [[[") is None  # the route's validation says so


def test_stored_values_read_back_or_read_as_none() -> None:
    assert read_stored_json('{"a": [1]}') == {"a": [1]}
    # stored before the limits, deeper than they allow, yet within what readers serve
    assert read_stored_json(json.dumps(nested(100))) == nested(100)
    assert read_stored_json(json.dumps(nested(300))) is None
    assert read_stored_json("[" * 5000 + "]" * 5000) is None
    assert read_stored_json('{"a": "\\ud800"}') is None
    assert read_stored_json("{broken") is None


def test_a_stored_value_is_compact_json_within_the_limits() -> None:
    assert check_stored_json("metadata", {"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'
    with pytest.raises(LimitError, match="The metadata nests deeper than 64 levels"):
        check_stored_json("metadata", nested(65))
    with pytest.raises(LimitError, match=r"The metadata is \d+ bytes of JSON, over .* 1 MiB"):
        check_stored_json("metadata", {"a": "x" * MAX_STORED_JSON_BYTES})
    with pytest.raises(LimitError, match="JSON-serializable"):
        check_stored_json("metadata", {"a": float("nan")})


def test_a_refused_credential_is_never_quoted() -> None:
    secret = "sk_live_\ud800_secret"
    with pytest.raises(LimitError) as caught:
        check_stored_json("credentials object", {"type": "API_KEY", "apiKey": secret})
    assert "sk_live" not in str(caught.value) and "lone surrogate" in str(caught.value)


def test_sizes_read_as_people_write_them() -> None:
    assert size_text(10 * 1024 * 1024) == "10 MiB"
    assert size_text(512 * 1024) == "512 KiB"
    assert size_text(1000) == "1000 bytes"


# -- as the connection store applies them, on both backends ---------------------------------

API_KEY = {"type": "API_KEY", "apiKey": "sk_live_1"}


@pytest.fixture(params=BACKENDS)
def connections(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConnectionStore]:
    with (
        database_url(request.param, tmp_path) as url,
        ConnectionStore.open(settings_for(tmp_path, database_url=url)) as store,
    ):
        yield store


def test_values_over_the_limits_are_refused_and_nothing_changes(
    connections: ConnectionStore,
) -> None:
    for metadata in (nested(65), {"a": "\ud800"}, {"a": "x" * MAX_STORED_JSON_BYTES}):
        with pytest.raises(LimitError, match="The connection metadata"):
            connections.create("stripe", "c1", API_KEY, metadata)
    assert connections.summaries() == []
    with pytest.raises(LimitError, match="The credentials object contains a lone surrogate"):
        connections.create("stripe", "c1", {"type": "API_KEY", "apiKey": "sk\udc00"})
    deep_raw = {"type": "OAUTH2", "access_token": "t", "raw": nested(64)}
    with pytest.raises(LimitError, match="The credentials object nests deeper than 64 levels"):
        connections.create("github", "c1", deep_raw)
    assert connections.summaries() == []

    connections.create("stripe", "c1", API_KEY, {"keep": 1})
    half = "x" * (MAX_STORED_JSON_BYTES // 2)
    connections.update_metadata("stripe", "c1", {"a": half})
    with pytest.raises(LimitError, match="over the limit of 1 MiB"):  # once merged
        connections.update_metadata("stripe", "c1", {"b": half})
    with pytest.raises(LimitError, match="nests deeper"):
        connections.set_metadata("stripe", "c1", {"deep": nested(64)})
    with pytest.raises(LimitError, match="lone surrogate"):
        connections.update_credentials("stripe", "c1", {"type": "API_KEY", "apiKey": "\ud800"})
    kept = connections.get("stripe", "c1")
    assert kept.metadata == {"keep": 1, "a": half} and kept.credentials == API_KEY


def test_a_stored_value_no_reader_could_serve_reads_as_empty(
    connections: ConnectionStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Stored before the limits: it no longer breaks every listing, and can be replaced."""
    connections.create("stripe", "c1", API_KEY, {"team": "a"})
    connections.create("stripe", "c2", API_KEY, {"team": "b"})
    connections.create("stripe", "c3", API_KEY)
    db = connections._db
    for connection_id, metadata in (("c1", nested(300)), ("c3", {"old": nested(100)})):
        db.execute(
            "UPDATE connections SET metadata = ? WHERE connection_id = ?",
            (json.dumps(metadata), connection_id),
        )
    with caplog.at_level("WARNING", logger="nango_scripts.store"):
        listed = {s.connection_id: s.metadata for s in connections.summaries()}
    assert listed == {"c1": {}, "c2": {"team": "b"}, "c3": {"old": nested(100)}}
    assert "connection 'c1' of integration 'stripe'" in caplog.text
    assert connections.get("stripe", "c1").metadata == {}
    assert connections.update_metadata("stripe", "c1", {"new": 1}).metadata == {"new": 1}
