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
    required: ClassVar[tuple[str, ...]] = ("cursor_path_in_response", "cursor_name_in_request")
    # Optional here so that Cursor(limit=50) can override part of a provider's default;
    # resolve_pagination() checks that the merged config is complete.
    cursor_path_in_response: str | None = Field(default=None, min_length=1)
    cursor_name_in_request: str | None = Field(default=None, min_length=1)


class Link(_PaginationBase):
    """The next page's URL is in the ``Link`` header (by rel) or at a path of the body."""

    type: ClassVar[str] = "link"
    required: ClassVar[tuple[str, ...]] = ()
    link_rel_in_response_header: str | None = Field(default=None, min_length=1)
    link_path_in_response_body: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _at_most_one_source(self) -> Link:
        if (
            self.link_rel_in_response_header is not None
            and self.link_path_in_response_body is not None
        ):
            raise PaginationError(
                "Invalid link pagination: give exactly one of link_rel_in_response_header "
                '(e.g. "next") or link_path_in_response_body (e.g. "paging.next").'
            )
        return self


class Offset(_PaginationBase):
    """The request says where to start: an item offset, or a page number (``per-page``)."""

    type: ClassVar[str] = "offset"
    required: ClassVar[tuple[str, ...]] = ("offset_name_in_request",)
    offset_name_in_request: str | None = Field(default=None, min_length=1)
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
    return _complete(cls.model_validate({k: v for k, v in config.items() if k != "type"}))


def _complete(config: PaginationConfig) -> PaginationConfig:
    """``config`` if it says everything its type needs, else a PaginationError naming what."""
    missing = [name for name in config.required if getattr(config, name) is None]
    if missing:
        raise PaginationError(
            f"Invalid {config.type} pagination: missing required key "
            + ", ".join(repr(m) for m in missing)
            + " (and the integration's default pagination does not give it).",
            hint="Give it in paginate=..., or set a default pagination for the integration.",
        )
    if (
        isinstance(config, Link)
        and config.link_rel_in_response_header is None
        and config.link_path_in_response_body is None
    ):
        raise PaginationError(
            "Invalid link pagination: give exactly one of link_rel_in_response_header "
            '(e.g. "next") or link_path_in_response_body (e.g. "paging.next").'
        )
    return config


_LINK_SOURCES = ("link_rel_in_response_header", "link_path_in_response_body")


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
            base = dict(default)
            if any(overrides.get(key) is not None for key in _LINK_SOURCES):
                # the script chose where the next link is: the default's choice gives way
                for key in _LINK_SOURCES:
                    base.pop(key, None)
            config = pagination_from_dict({**base, **overrides})
        elif "type" not in overrides:
            raise PaginationError(
                f'The paginate dict has no "type" and provider {provider!r} has no default '
                "pagination to complete it.",
                hint='Add "type": "cursor", "link" or "offset".',
            )
        elif isinstance(script, _PaginationBase):
            config = _complete(script)
        else:
            config = pagination_from_dict(overrides)
    if config.limit is not None and not config.limit_name_in_request:
        raise PaginationError(
            f"Pagination limit={config.limit} needs limit_name_in_request: the name of the "
            "query parameter (or body field) the API reads the page size from."
        )
    return config
