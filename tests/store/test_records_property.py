"""Property: a delta reader that pages while records change never misses a change.

Random interleavings of saves, partial updates, deletes and page reads (small random
limits) run against both backends and against a plain-Python model of SPEC 4. When the
reader reaches the end after the last write, what it has seen must be the store's final
state, every change must have reached it after it happened, and the store's final state
must be the model's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from nango_scripts.store import RecordQuery, RecordScope, SqlRecordStore

IDS = ["a", "b", "c", "d", "e", "f"]


class Item(BaseModel):
    id: str
    n: int = 0
    tags: dict[str, Any] = Field(default_factory=dict)


ids = st.sampled_from(IDS)
tags = st.dictionaries(
    st.sampled_from(["x", "y"]),
    st.one_of(st.integers(0, 1), st.dictionaries(st.sampled_from(["p", "q"]), st.integers(0, 1))),
    max_size=2,
)
contents = st.fixed_dictionaries({"n": st.integers(0, 2), "tags": tags})
patches = st.fixed_dictionaries({}, optional={"n": st.integers(0, 2), "tags": tags})

operations = st.lists(
    st.one_of(
        st.tuples(st.just("save"), st.lists(st.tuples(ids, contents), min_size=1, max_size=5)),
        st.tuples(st.just("update"), st.lists(st.tuples(ids, patches), min_size=1, max_size=3)),
        st.tuples(st.just("delete"), st.lists(ids, min_size=1, max_size=3)),
        st.tuples(st.just("read"), st.integers(1, 4)),
    ),
    min_size=8,
    max_size=40,
)


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Model:
    """What SPEC 4 says the store holds: data and deleted flag per id."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, bool] = field(default_factory=dict)
    last_change: dict[str, int] = field(default_factory=dict)

    def live(self, rid: str) -> bool:
        return rid in self.data and not self.deleted[rid]

    def save(self, step: int, rid: str, data: dict[str, Any]) -> None:
        if not self.live(rid) or self.data[rid] != data:
            self.data[rid], self.deleted[rid] = data, False
            self.last_change[rid] = step

    def update(self, step: int, rid: str, patches: list[Mapping[str, Any]]) -> None:
        """All patches of one id in one batch, merged in order: one change at most."""
        if self.live(rid):
            merged = self.data[rid]
            for patch in patches:
                merged = merge(merged, patch)
            if merged != self.data[rid]:
                self.data[rid] = merged
                self.last_change[rid] = step

    def delete(self, step: int, rid: str) -> None:
        if self.live(rid):
            self.deleted[rid] = True
            self.last_change[rid] = step


@dataclass
class Reader:
    store: SqlRecordStore
    scope: RecordScope
    cursor: str | None = None
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    read_at: dict[str, list[int]] = field(default_factory=dict)
    positions: list[str] = field(default_factory=list)

    def page(self, step: int, limit: int) -> bool:
        """Read one page; True when the reader is at the end."""
        page = self.store.list_records(
            RecordQuery(self.scope, "Item", limit=limit, cursor=self.cursor)
        )
        for record in page.records:
            self.latest[record["id"]] = record
            self.read_at.setdefault(record["id"], []).append(step)
            self.positions.append(record["_nango_metadata"]["cursor"])
        if page.records:
            self.cursor = page.next_cursor or page.records[-1]["_nango_metadata"]["cursor"]
        return page.next_cursor is None


def run_interleaving(store: SqlRecordStore, ops: list[tuple[Any, ...]]) -> None:
    scope = RecordScope("prop", "int", uuid.uuid4().hex)  # a fresh scope per example
    model = Model()
    reader = Reader(store, scope)
    for step, (kind, arg) in enumerate(ops):
        if kind == "save":
            batch = [Item(id=rid, **data) for rid, data in arg]
            store.save_records(scope, "Item", batch)
            last_wins = {item.id: item for item in batch}
            for rid, item in last_wins.items():
                model.save(step, rid, item.model_dump(mode="json"))
        elif kind == "update":
            store.update_records(scope, "Item", [{"id": rid, **patch} for rid, patch in arg])
            grouped: dict[str, list[Mapping[str, Any]]] = {}
            for rid, patch in arg:
                grouped.setdefault(rid, []).append({"id": rid, **patch})
            for rid, rid_patches in grouped.items():
                model.update(step, rid, rid_patches)
        elif kind == "delete":
            store.delete_records(scope, "Item", arg)
            for rid in arg:
                model.delete(step, rid)
        else:
            reader.page(step, arg)

    end = len(ops)
    for _ in range(100):
        if reader.page(end, 3):
            break
    else:
        raise AssertionError("the reader never reached the end")

    final: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        page = store.list_records(RecordQuery(scope, "Item", limit=10_000, cursor=cursor))
        final.update((r["id"], r) for r in page.records)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    # The store holds what the model says.
    assert set(final) == set(model.data)
    for rid, record in final.items():
        metadata = record.pop("_nango_metadata")
        assert record == model.data[rid], rid
        assert (metadata["last_action"] == "DELETED") == model.deleted[rid], rid
        assert (metadata["deleted_at"] is not None) == model.deleted[rid], rid
        record["_nango_metadata"] = metadata
    # The reader's latest version of every record is the final state...
    assert reader.latest == final
    # ...every change reached it after it happened...
    for rid, changed_at in model.last_change.items():
        assert max(reader.read_at[rid]) > changed_at, (rid, changed_at, reader.read_at[rid])
    # ...and no version came twice: positions only go forward.
    assert len(set(reader.positions)) == len(reader.positions)


def test_a_paging_reader_sees_every_change(backend: SqlRecordStore) -> None:
    examples = 60 if backend.dialect == "sqlite" else 25

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=operations)
    def check(ops: list[tuple[Any, ...]]) -> None:
        run_interleaving(backend, ops)

    check()
