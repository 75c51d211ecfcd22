"""``POST /action/trigger`` (now, or in the background with ``X-Async: true``) and
``GET /action/{id}`` (the background run's result)."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nango_scripts.dsl import ActionSpec
from nango_scripts.engine import Service
from nango_scripts.runtime import RunError
from nango_scripts.server._common import (
    ConnectionIdHeader,
    ProviderConfigKeyHeader,
    ServiceDep,
    find_connection,
    require_integration,
)
from nango_scripts.server._errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorBody,
    FieldError,
    JsonAnswer,
)
from nango_scripts.store import blocking

__all__ = ["router"]

logger = logging.getLogger("nango_scripts.server")

router = APIRouter(tags=["actions"], responses=ERROR_RESPONSES)

# RunError.type -> (HTTP status, Nango error code). An ActionError is Nango's
# action_script_failure, a 500 there too (NangoError's default status).
_FAILURES: dict[str, tuple[int, str]] = {
    "action_error": (500, "action_script_failure"),
    "script_error": (500, "action_script_failure"),
    "invalid_input": (400, "invalid_action_input"),
    "invalid_output": (400, "invalid_action_output"),
    "http_error": (424, "script_http_error"),
    "validation_error": (400, "action_failure"),
    "interrupted": (500, "action_interrupted"),
    "server_error": (500, "server_error"),
}
_SERVER_FAILED = "The action failed on the server's side (not in the script); see the server log."
_FAILURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    424: {"model": ErrorBody, "description": "An HTTP request of the action failed"},
    500: {"model": ErrorBody, "description": "The action failed (action_script_failure)"},
}


class TriggerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action_name: str = Field(min_length=1)
    input: Any = None


class AsyncStarted(BaseModel):
    id: str
    statusUrl: str = Field(description="Host-relative: GET it for the result")


def failure(error: RunError | dict[str, Any]) -> ApiError:
    kind, message, payload = (
        (error.type, error.message, error.payload)
        if isinstance(error, RunError)
        else (str(error.get("type")), str(error.get("message")), error.get("payload"))
    )
    status, code = _FAILURES.get(kind, (500, "action_script_failure"))
    if code == "server_error":  # ours (the database...): its detail is for the log only
        logger.error("an action failed on the server's side: %s", message)
        return ApiError(status, code, _SERVER_FAILED)
    if code == "action_script_failure":
        message = f"The action script failed with an error: {message}"
    return ApiError(status, code, message, payload=payload)


def _find_action(service: Service, integration_id: str, name: str) -> ActionSpec:
    actions = service.actions_of(integration_id)
    for spec in actions:
        if spec.name == name:
            return spec
    known = ", ".join(a.name for a in actions) or "none"
    raise ApiError(
        404,
        "not_found",
        f"Action '{name}' not found in integration '{integration_id}' (actions: {known}).",
    )


def _check_input(spec: ActionSpec, raw: Any) -> None:
    """400 naming the field, before anything runs."""
    if spec.input is None:
        return
    try:
        spec.input.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        errors = []
        for detail in exc.errors(include_url=False):
            path: list[str | int] = ["input", *detail["loc"]]
            where = ".".join(str(p) for p in path)
            errors.append(
                FieldError(code=detail["type"], message=f"{where}: {detail['msg']}", path=path)
            )
        shown = "; ".join(e.message for e in errors[:5])
        raise ApiError(
            400,
            "invalid_action_input",
            f"The input of action '{spec.name}' does not match {spec.input.__name__}: {shown}",
            errors=errors,
        ) from None


@router.post(
    "/action/trigger",
    summary="Run an action",
    response_model=Any,
    responses={
        200: {"description": "The action's output, as is (any JSON value)"},
        202: {"model": AsyncStarted, "description": "Started in the background (X-Async)"},
        **_FAILURE_RESPONSES,
    },
)
async def trigger_action(
    service: ServiceDep,
    connection_id: ConnectionIdHeader,
    provider_config_key: ProviderConfigKeyHeader,
    body: TriggerBody,
    x_async: Annotated[str | None, Header(alias="X-Async")] = None,
    x_max_retries: Annotated[int | None, Header(alias="X-Max-Retries", ge=0, le=5)] = None,
) -> JsonAnswer:
    provider = require_integration(service, provider_config_key)
    spec = _find_action(service, provider_config_key, body.action_name)
    connection = await find_connection(service, provider_config_key, connection_id)
    _check_input(spec, body.input)
    if (x_async or "").strip().lower() == "true":
        run_id = await service.actions.start(spec, connection, provider, body.input)
        status_url = f"/action/{run_id}"
        return JsonAnswer(
            {"id": run_id, "statusUrl": status_url},
            status_code=202,
            headers={"Location": status_url},
        )
    result = await service.actions.run(spec, connection, provider, body.input)
    if result.error is not None:
        raise failure(result.error)
    return JsonAnswer(result.output)


@router.get(
    "/action/{action_id}",
    summary="The result of an action run in the background",
    response_model=Any,
    responses={200: {"description": "The action's output, as is"}, **_FAILURE_RESPONSES},
)
async def get_action_result(
    service: ServiceDep, action_id: Annotated[str, Path(description="The id from X-Async")]
) -> JsonAnswer:
    try:
        uuid.UUID(action_id)
    except ValueError:
        raise ApiError(
            400, "invalid_uri_params", f"id: '{action_id}' is not an action id (a UUID)."
        ) from None
    run = await blocking(service.action_runs.get, action_id)
    if run is None or run.environment != service.environment:
        raise ApiError(404, "not_found", f"No action '{action_id}' found")
    if run.status == "running":
        # Not done: a non-2xx, so that a client polling never takes it for the output.
        raise ApiError(
            404,
            "not_found",
            f"Action '{action_id}' has not finished yet; try again later.",
            payload={"status": "running"},
        )
    if run.error is not None:
        raise failure(run.error)
    return JsonAnswer(run.output)
