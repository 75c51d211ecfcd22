"""What every call of the API shares: the request builder, the JSON body, query values,
required arguments, and the parsers of Nango's answers (see docs/nango-node-client.md for
the wire contract). The calls themselves are grouped by resource in ``_calls_*``."""

from __future__ import annotations

import enum
import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from nango_scripts.client._errors import NangoClientError
from nango_scripts.client._flow import Flow, Request, RetryPolicy, call, decode

__all__ = [
    "NOT_GIVEN",
    "NO_BODY",
    "Calls",
    "NotGiven",
    "ParamValue",
    "ProxyParams",
    "connection_headers",
    "encode_json",
    "ignore_answer",
    "name_list",
    "param_text",
    "parse_list",
    "parse_model",
    "required",
    "validated",
]

M = TypeVar("M", bound=BaseModel)

ParamValue = str | int | float | bool
ProxyParams = (
    Mapping[str, ParamValue | Sequence[ParamValue] | None] | Sequence[tuple[str, ParamValue]]
)

NO_BODY: Any = object()
"""``call_endpoint(..., input=NO_BODY)``: send no body (``None`` sends JSON ``null``)."""


class NotGiven(enum.Enum):
    """The default of an optional field a PATCH leaves out (``None`` would clear it)."""

    NOT_GIVEN = "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON: pass JSON values or a pydantic model")


def encode_json(value: Any) -> bytes:
    text = jsonlib.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
    )
    return text.encode("utf-8")


def param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def required(**values: str | None) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} is required (a non-empty string), not {value!r}")


def name_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def validated(cls: type[M], data: Any) -> M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise NangoClientError(f"Unexpected answer from Nango for {cls.__name__}: {exc}") from exc


def parse_model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: validated(cls, decode(response))


def parse_list(cls: type[M], key: str | None) -> Callable[[httpx.Response], list[M]]:
    def parse(response: httpx.Response) -> list[M]:
        body = decode(response)
        items = body.get(key) if key is not None and isinstance(body, dict) else body
        if not isinstance(items, list):
            raise NangoClientError(
                f"Unexpected answer from Nango: expected a list, got {body!r:.200}"
            )
        return [validated(cls, item) for item in items]

    return parse


def ignore_answer(response: httpx.Response) -> None:
    return None


def connection_headers(provider_config_key: str, connection_id: str) -> dict[str, str]:
    required(provider_config_key=provider_config_key, connection_id=connection_id)
    return {"Connection-Id": connection_id, "Provider-Config-Key": provider_config_key}


class Calls:
    """The base of the calls: holds the host, the key and the retry policy, and builds
    each request and its flow."""

    def __init__(self, host: str, secret_key: str, policy: RetryPolicy, user_agent: str) -> None:
        self.host = host
        self.policy = policy
        self._headers = {
            "Authorization": f"Bearer {secret_key}",
            "User-Agent": user_agent,
            "Accept": "application/json",
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, ParamValue | None]] = (),
        body: Any = NO_BODY,
        headers: Mapping[str, str] | None = None,
        retryable: bool = False,
    ) -> Request:
        all_headers = {**self._headers, **(headers or {})}
        content = None
        if body is not NO_BODY:
            content = encode_json(body)
            all_headers["Content-Type"] = "application/json"
        return Request(
            method=method,
            url=self.host + path,
            params=tuple((k, param_text(v)) for k, v in params if v is not None),
            headers=all_headers,
            content=content,
            retryable=retryable,
        )

    def _call(self, request: Request, parse: Callable[[httpx.Response], Any]) -> Flow[Any]:
        return call(request, self.policy, parse)
