"""Validating records against their model, fast in the common case.

- ``validate_batch``: a batch of dicts is validated by pydantic-core in one call; only
  when that fails are records validated one by one, to say which ones are bad and why.
  Instances of the model are trusted as they are (they were validated when built).
- ``validate_partial``: a partial record for ``batch_update``: every key must be a field
  of the model and every value must fit that field; nested partial objects of nested
  models are checked the same way, so a deep merge can still be partial.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from nango_scripts.runtime._results import InvalidRecord


@lru_cache(maxsize=256)
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[BaseModel]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _record_id(raw: Any) -> str | None:
    if isinstance(raw, BaseModel):
        value = getattr(raw, "id", None)
    elif isinstance(raw, Mapping):
        value = raw.get("id")
    else:
        return None
    return None if value is None else str(value)


def _first_problem(error: ValidationError) -> tuple[str, str]:
    detail = error.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in detail["loc"]) or "(record)"
    return loc, detail["msg"]


def validate_batch(
    model: type[BaseModel], records: Sequence[Any]
) -> tuple[list[BaseModel], list[InvalidRecord]]:
    """Return (the valid records as instances of ``model``, the invalid ones with reasons).

    Items may be mappings, instances of ``model`` (kept as they are) or instances of
    another model (validated from their dump, by alias).
    """
    if all(type(r) is model for r in records):
        return list(records), []  # the script validated them (the usual case)
    if all(isinstance(r, Mapping) for r in records):
        try:
            return _list_adapter(model).validate_python(records), []
        except ValidationError:
            pass
    valid: list[BaseModel] = []
    invalid: list[InvalidRecord] = []
    for raw in records:
        if isinstance(raw, model):
            valid.append(raw)
            continue
        data = raw.model_dump(by_alias=True) if isinstance(raw, BaseModel) else raw
        try:
            valid.append(model.model_validate(data))
        except ValidationError as error:
            where, reason = _first_problem(error)
            invalid.append(InvalidRecord(model.__name__, _record_id(raw), where, reason))
    return valid, invalid


@lru_cache(maxsize=1024)
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    field = model.model_fields[name]
    if not field.metadata:  # Annotated needs at least one piece of metadata
        return TypeAdapter(field.annotation)  # type: ignore[arg-type]
    return TypeAdapter(Annotated[field.annotation, *field.metadata])  # type: ignore[arg-type]


def _fields_by_key(model: type[BaseModel]) -> dict[str, tuple[str, FieldInfo]]:
    keys: dict[str, tuple[str, FieldInfo]] = {}
    for name, field in model.model_fields.items():
        keys[name] = (name, field)
        if field.alias:
            keys[field.alias] = (name, field)
    return keys


def _partial(model: type[BaseModel], data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``data`` checked field by field against ``model``, dumped to JSON-ready values.

    Raises ``_PartialError`` naming the first bad field.
    """
    fields = _fields_by_key(model)
    out: dict[str, Any] = {}
    for key, value in data.items():
        found = fields.get(key)
        if found is None:
            raise _PartialError(f"{where}{key}", f"{model.__name__} has no field {key!r}")
        name, field = found
        annotation = field.annotation
        if (
            isinstance(value, Mapping)
            and isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
        ):
            out[key] = _partial(annotation, value, f"{where}{key}.")
            continue
        adapter = _field_adapter(model, name)
        try:
            out[key] = adapter.dump_python(adapter.validate_python(value), mode="json")
        except ValidationError as error:
            inner, reason = _first_problem(error)
            suffix = "" if inner == "(record)" else f".{inner}"
            raise _PartialError(f"{where}{key}{suffix}", reason) from None
    return out


class _PartialError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def validate_partial(
    model: type[BaseModel], record: Mapping[str, Any] | BaseModel
) -> tuple[dict[str, Any] | None, InvalidRecord | None]:
    """A partial record for ``batch_update``: (JSON-ready dict, None) or (None, why not)."""
    data = record.model_dump(exclude_unset=True) if isinstance(record, BaseModel) else record
    rid = _record_id(data)
    if rid is None:
        return None, InvalidRecord(model.__name__, None, "id", "a partial record needs its id")
    if not isinstance(data, Mapping):
        return None, InvalidRecord(model.__name__, None, "(record)", "not a mapping")
    try:
        return _partial(model, data, ""), None
    except _PartialError as error:
        return None, InvalidRecord(model.__name__, rid, error.field, error.reason)
