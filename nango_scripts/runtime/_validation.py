"""Validating a batch of records against its model, fast in the common case.

A whole batch is validated by pydantic-core in one call; only when that fails are
records validated one by one, to say which ones are bad and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from nango_scripts.runtime._results import InvalidRecord


@lru_cache(maxsize=256)
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[BaseModel]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _record_id(raw: Any) -> str | None:
    if isinstance(raw, BaseModel):
        raw = raw.__dict__
    if isinstance(raw, dict):
        value = raw.get("id")
        return None if value is None else str(value)
    return None


def _first_problem(error: ValidationError) -> tuple[str, str]:
    detail = error.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in detail["loc"]) or "(record)"
    return loc, detail["msg"]


def validate_batch(
    model: type[BaseModel], records: Sequence[Any]
) -> tuple[list[BaseModel], list[InvalidRecord]]:
    """Return (the valid records as instances of ``model``, the invalid ones with reasons).

    Each item may be an instance of ``model`` (re-validated: scripts can build
    instances with ``model_construct``) or a mapping.
    """
    adapter = _list_adapter(model)
    items = [r.__dict__ if type(r) is model else r for r in records]
    try:
        return adapter.validate_python(items), []
    except ValidationError:
        return _validate_one_by_one(model, items)


def _validate_one_by_one(
    model: type[BaseModel], items: Sequence[Any]
) -> tuple[list[BaseModel], list[InvalidRecord]]:
    valid: list[BaseModel] = []
    invalid: list[InvalidRecord] = []
    for raw in items:
        try:
            instance = model.model_validate(raw)
        except ValidationError as error:
            where, reason = _first_problem(error)
            invalid.append(InvalidRecord(model.__name__, _record_id(raw), where, reason))
            continue
        valid.append(instance)
    return valid, invalid
