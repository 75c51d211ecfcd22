"""Pagination configs with Nango's field names, their dict form, and merging over a provider default.

Pydantic models because merging needs to know which fields a script *set*
(``model_fields_set``): ``Cursor(..., limit=50)`` overrides only ``limit`` of the
provider's default. Every misuse raises :class:`PaginationError` naming the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nango_scripts.errors import PaginationError

__all__ = [
    "Cursor",
    "Link",
    "Offset",
    "PaginationConfig",
    "pagination_from_dict",
    "resolve_pagination",
]


def _describe(name: str, exc: ValidationError, allowed: list[str]) -> str:
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "(config)"
        if err["type"] == "missing":
            problems.append(f"missing required key {field!r}")
        elif err["type"] == "extra_forbidden":
            problems.append(f"unknown key {field!r} (allowed: {', '.join(allowed)})")
        else:
            problems.append(f"{field}: {err['msg']} (got {err.get('input')!r})")
    return f"Invalid {name} pagination: " + "; ".join(problems)


class _PaginationBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ClassVar[str]
    response_path: str | None = None
    """Where the list of items is in the JSON body; absent: the body itself is the list."""
    limit: int | None = Field(default=None, gt=0)
    """Page size asked for; sent as ``limit_name_in_request``."""
    limit_name_in_request: str | None = None
    in_body: bool = False
    """Send limit, cursor and offset in the JSON body instead of the query string."""

    @model_validator(mode="wrap")
    @classmethod
    def _as_pagination_error(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise PaginationError(
                _describe(cls.type, exc, sorted(cls.model_fields)),
                hint='See SPEC section 3: Cursor(...), Link(...), Offset(...) or a dict with "type".',
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """Nango's dict form, with only the fields that were set."""
        return {"type": self.type, **self.model_dump(exclude_unset=True)}


class Cursor(_PaginationBase):
    """The response names the next page's cursor; the next request sends it back."""

    type: ClassVar[str] = "cursor"
    cursor_path_in_response: str = Field(min_length=1)
    cursor_name_in_request: str = Field(min_length=1)


class Link(_PaginationBase):
    """The next page's URL is in the ``Link`` header (by rel) or at a path of the body."""

    type: ClassVar[str] = "link"
    link_rel_in_response_header: str | None = Field(default=None, min_length=1)
    link_path_in_response_body: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Link:
        if (self.link_rel_in_response_header is None) == (self.link_path_in_response_body is None):
            raise PaginationError(
                "Invalid link pagination: give exactly one of link_rel_in_response_header "
                '(e.g. "next") or link_path_in_response_body (e.g. "paging.next").'
            )
        return self


class Offset(_PaginationBase):
    """The request says where to start: an item offset, or a page number (``per-page``)."""

    type: ClassVar[str] = "offset"
    offset_name_in_request: str = Field(min_length=1)
    offset_start_value: int = 0
    offset_calculation_method: Literal["by-response-size", "per-page"] = "by-response-size"


PaginationConfig = Cursor | Link | Offset

_TYPES: dict[str, type[Cursor] | type[Link] | type[Offset]] = {
    "cursor": Cursor,
    "link": Link,
    "offset": Offset,
}


def pagination_from_dict(config: Mapping[str, Any]) -> PaginationConfig:
    """A config from Nango's dict form: ``{"type": "cursor" | "link" | "offset", ...}``."""
    if not isinstance(config, Mapping):
        raise PaginationError(
            f"A pagination config must be Cursor(...), Link(...), Offset(...) or a dict, "
            f"not {type(config).__name__}."
        )
    kind = config.get("type")
    if kind is None:
        raise PaginationError(
            'A pagination dict needs "type": "cursor", "link" or "offset" '
            f"(got keys: {', '.join(sorted(map(str, config))) or 'none'})."
        )
    cls = _TYPES.get(str(kind).lower())
    if cls is None:
        raise PaginationError(
            f'Unknown pagination type {kind!r}: use "cursor", "link" or "offset".'
        )
    return cls.model_validate({k: v for k, v in config.items() if k != "type"})


def resolve_pagination(
    default: Mapping[str, Any] | None,
    script: PaginationConfig | Mapping[str, Any] | None,
    *,
    provider: str = "",
) -> PaginationConfig:
    """The script's config merged over the provider's default (a different type replaces it)."""
    if script is None:
        if default is None:
            raise PaginationError(
                f"No pagination config: provider {provider!r} has no default pagination.",
                hint="Pass paginate=Cursor(...), Link(...) or Offset(...) to nango.paginate().",
            )
        config = pagination_from_dict(default)
    else:
        overrides = script.to_dict() if isinstance(script, _PaginationBase) else dict(script)
        default_type = default.get("type") if default is not None else None
        if default is not None and overrides.get("type", default_type) == default_type:
            config = pagination_from_dict({**default, **overrides})
        elif "type" not in overrides:
            raise PaginationError(
                f'The paginate dict has no "type" and provider {provider!r} has no default '
                "pagination to complete it.",
                hint='Add "type": "cursor", "link" or "offset".',
            )
        elif isinstance(script, _PaginationBase):
            config = script
        else:
            config = pagination_from_dict(overrides)
    if config.limit is not None and not config.limit_name_in_request:
        raise PaginationError(
            f"Pagination limit={config.limit} needs limit_name_in_request: the name of the "
            "query parameter (or body field) the API reads the page size from."
        )
    return config
