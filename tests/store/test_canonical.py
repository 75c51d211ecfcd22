"""Canonical JSON, hashes, timestamps and cursors: pure functions, no database."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from nango_scripts.errors import RecordQueryError
from nango_scripts.store._canonical import (
    CursorCodec,
    canonical_json,
    parse_timestamp,
    record_hash,
    timestamp,
)

KEY = bytes(range(32))
SCOPE = json.dumps(["prod", "github", "c1", "Issue"])


# -- canonical JSON and hashes ---------------------------------------------------------------


def test_canonical_json_sorts_keys_at_every_depth_without_spaces() -> None:
    record = {"b": 1, "a": {"z": [3, {"y": 1, "x": 2}], "c": None}, "id": "1"}
    assert canonical_json(record) == '{"a":{"c":null,"z":[3,{"x":2,"y":1}]},"b":1,"id":"1"}'


def test_canonical_json_keeps_unicode_as_is() -> None:
    assert canonical_json({"name": "Zoë 東京 🚀"}) == '{"name":"Zoë 東京 🚀"}'


def test_canonical_json_ignores_key_order() -> None:
    first = {"id": "1", "meta": {"a": 1, "b": [1, 2]}, "title": "x"}
    second = {"title": "x", "meta": {"b": [1, 2], "a": 1}, "id": "1"}
    assert canonical_json(first) == canonical_json(second)


def test_record_hash_is_stable_and_content_sensitive() -> None:
    text = canonical_json({"id": "1", "title": "x"})
    digest = record_hash(text)
    assert isinstance(digest, bytes)
    assert len(digest) == 16
    assert record_hash(text) == digest
    assert record_hash(canonical_json({"title": "x", "id": "1"})) == digest
    assert record_hash(canonical_json({"id": "1", "title": "y"})) != digest
    assert record_hash(canonical_json({"id": "1", "title": "x", "n": None})) != digest
    # A list's order is content.
    assert record_hash(canonical_json({"l": [1, 2]})) != record_hash(canonical_json({"l": [2, 1]}))


# -- timestamps ------------------------------------------------------------------------------


def test_timestamp_is_fixed_width_utc() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert timestamp(moment) == "2024-05-01T12:00:00.000000Z"
    paris = datetime(2024, 5, 1, 14, 0, 0, 1, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(paris) == "2024-05-01T12:00:00.000001Z"
    assert timestamp(datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00.000000Z"  # naive: UTC
    now = timestamp()
    assert now.endswith("Z")
    assert len(now) == len("2024-05-01T12:00:00.000000Z")


@pytest.mark.parametrize("year", [1, 999, 1000, 2024, 9999])
def test_timestamp_has_the_same_width_for_every_year(year: int) -> None:
    assert len(timestamp(datetime(year, 6, 1, tzinfo=UTC))) == len("2024-05-01T12:00:00.000000Z")


def test_timestamps_order_as_text_like_the_moments_they_name() -> None:
    base = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    moments = [
        datetime(999, 12, 31, tzinfo=UTC),
        datetime(1999, 1, 1, tzinfo=UTC),
        base - timedelta(days=400),
        base - timedelta(microseconds=1),
        base,
        base + timedelta(microseconds=1),
        base + timedelta(seconds=1),
        base + timedelta(hours=10),
        base + timedelta(days=40),
    ]
    texts = [timestamp(m) for m in moments]
    assert sorted(texts) == texts
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00.000001Z", datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T07:30:00-04:30", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("  2024-05-01T12:00:00Z ", datetime(2024, 5, 1, 12, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_reads_iso_8601(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert timestamp(parsed) == timestamp(expected)


def test_parse_timestamp_takes_datetimes_and_reads_naive_ones_as_utc() -> None:
    aware = datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=-3)))
    assert parse_timestamp(aware) == aware
    naive = parse_timestamp(datetime(2024, 5, 1, 12))
    assert naive.tzinfo is UTC
    assert naive == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_parse_timestamp_round_trips_what_timestamp_writes() -> None:
    moment = datetime(2024, 5, 1, 12, 34, 56, 789012, tzinfo=UTC)
    assert parse_timestamp(timestamp(moment)) == moment


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-05-01T25:00:00Z", "12:00"])
def test_parse_timestamp_refuses_garbage_with_a_query_error(text: str) -> None:
    with pytest.raises(RecordQueryError, match="not an ISO-8601 date"):
        parse_timestamp(text)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_out_of_range_moment_is_a_query_error(text: str) -> None:
    # A client's modified_after goes through parse_timestamp then timestamp: a date
    # that leaves datetime's range once moved to UTC must be refused, not crash.
    with pytest.raises(RecordQueryError):
        timestamp(parse_timestamp(text))


# -- cursors ---------------------------------------------------------------------------------


def _raw(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _pack(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("seq", [0, 1, 42, 2**40, 2**63 - 1])
def test_cursor_round_trips(seq: int) -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode(seq, SCOPE)
    assert codec.decode(cursor, SCOPE) == seq
    assert "=" not in cursor


def test_cursor_is_url_safe_and_deterministic() -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode(123456, SCOPE)
    assert cursor == codec.encode(123456, SCOPE)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _tampered(cursor: str) -> list[str]:
    version, seq, mac = _raw(cursor).split(":")
    return [
        _pack(f"{version}:{int(seq) + 1}:{mac}"),  # edited position
        _pack(f"{version}:{int(seq) - 1}:{mac}"),
        _pack(f"2:{seq}:{mac}"),  # unknown version
        _pack(f"{version}:-{seq}:{mac}"),
        _pack(f"{version}:{seq}:{mac[:-2]}AA"),  # edited signature
        _pack(f"{version}:{seq}:"),
        _pack(f"{version}:{seq}"),
        _pack(f"{version}:{seq}:{mac}:extra"),
        _pack(f"{version}:x:{mac}"),
        cursor[:-3],  # truncated
        cursor[: len(cursor) // 2],
        cursor + "AAAA",
        "",
        "garbage",
        "!!!!",
        "Zm9v",
        "ümlaut",
        "=" * 8,
        "\x00\x01",
    ]


def test_a_tampered_cursor_is_refused_with_a_clear_message() -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode(1000, SCOPE)
    for bad in _tampered(cursor):
        with pytest.raises(RecordQueryError, match="Invalid cursor") as caught:
            codec.decode(bad, SCOPE)
        assert caught.value.hint is not None
        assert "next_cursor" in caught.value.hint


def test_a_cursor_is_bound_to_its_scope_and_key() -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode(7, SCOPE)
    for other in (
        json.dumps(["prod", "github", "c2", "Issue"]),
        json.dumps(["prod", "github", "c1", "Comment"]),
        json.dumps(["dev", "github", "c1", "Issue"]),
        json.dumps(["prod", "gitlab", "c1", "Issue"]),
    ):
        with pytest.raises(RecordQueryError, match="Invalid cursor"):
            codec.decode(cursor, other)
    with pytest.raises(RecordQueryError, match="Invalid cursor"):
        CursorCodec(bytes(32)).decode(cursor, SCOPE)
