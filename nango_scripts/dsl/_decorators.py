"""``@sync`` and ``@action``: check a script's declaration once, when its module is imported,
and turn the function into a frozen :class:`SyncSpec` / :class:`ActionSpec`.

Every misuse raises :class:`ScriptDefinitionError` naming the file and line, the function
and the fix. ``def`` and ``async def`` are both accepted; which one is recorded in
``is_async`` here, so that nothing downstream inspects the function again.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeGuard, overload

from pydantic import BaseModel

from nango_scripts.dsl._endpoints import ENDPOINT_FIX, Endpoint, check_endpoints
from nango_scripts.dsl._frequency import FrequencyError, parse_frequency
from nango_scripts.dsl._location import display_path
from nango_scripts.dsl._spec import ActionSpec, SyncSpec, SyncType
from nango_scripts.errors import ScriptDefinitionError

__all__ = ["action", "sync"]

_SYNC_TYPES: tuple[SyncType, ...] = ("incremental", "full")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]+)?")
# Script names already taken in a module, kept in the module's own namespace so that
# a fresh import (the loader's reload) starts from an empty table.
_REGISTRY_KEY = "__nango_scripts_names__"

Function = Callable[..., Any]


@dataclass(frozen=True)
class _Site:
    """Where a definition is and how to call it in a message."""

    where: str
    """``github/syncs/issues.py:12``"""
    label: str
    """``sync "issues"``, or ``sync "gh-issues" (function issues)``"""

    def error(self, problem: str, fix: str) -> ScriptDefinitionError:
        return ScriptDefinitionError(f"{self.where}, {self.label}: {problem}.", hint=fix)


# --------------------------------------------------------------------------- sync


@overload
def sync(func: Function, /) -> NoReturn: ...


@overload
def sync(
    *,
    models: Sequence[type[BaseModel]],
    frequency: str,
    sync_type: SyncType = "incremental",
    track_deletes: bool = False,
    auto_start: bool = True,
    metadata: type[BaseModel] | None = None,
    scopes: Sequence[str] = (),
    description: str = "",
    version: str = "0.0.1",
    name: str | None = None,
    integration: str | None = None,
    endpoints: Sequence[Endpoint | Mapping[str, str] | str] | None = None,
) -> Callable[[Function], SyncSpec]: ...


def sync(
    func: object = None,
    /,
    *,
    models: object = None,
    frequency: object = None,
    sync_type: object = "incremental",
    track_deletes: object = False,
    auto_start: object = True,
    metadata: object = None,
    scopes: object = (),
    description: object = "",
    version: object = "0.0.1",
    name: object = None,
    integration: object = None,
    endpoints: object = None,
) -> Callable[[Function], SyncSpec]:
    """Declare a sync: ``@sync(models=[Issue], frequency="every hour")`` on
    ``async def issues(nango: NangoSync) -> None`` (or a plain ``def``)."""
    if func is not None:
        _called_without_arguments("sync", func, 'models=[Issue], frequency="every hour"')

    def decorate(fn: Function) -> SyncSpec:
        site, script_name, code = _inspect_function("sync", fn, name)
        expected_signature = _signature(fn, "NangoSync", None, "None")
        positional = _positional_parameters(fn, site, expected_signature)
        if len(positional) != 1:
            raise _wrong_count(site, positional, "one, the context", expected_signature)
        model_types = _check_models(models, site)
        metadata_type = _check_optional_model("metadata", metadata, site)
        if sync_type not in _SYNC_TYPES:
            raise site.error(
                f"unknown sync_type {sync_type!r}",
                'Use sync_type="incremental" (each run fetches what changed since the last '
                'one) or sync_type="full" (each run fetches everything).',
            )
        every, seconds = _check_frequency(frequency, site)
        track = _check_bool("track_deletes", track_deletes, site)
        if track and sync_type == "incremental":
            raise site.error(
                "track_deletes=True needs a full sync: an incremental run only sees what "
                "changed, so a record it does not save is not gone",
                'Set sync_type="full", or remove track_deletes=True and call '
                "nango.batch_delete() for records the API reports deleted.",
            )
        spec = SyncSpec(
            func=fn,
            name=script_name,
            integration=_check_name("integration", integration, site),
            models=model_types,
            frequency=every,
            frequency_seconds=seconds,
            sync_type=sync_type,
            track_deletes=track,
            auto_start=_check_bool("auto_start", auto_start, site),
            metadata=metadata_type,
            scopes=_check_scopes(scopes, site),
            description=_check_description(description, site),
            version=_check_version(version, site),
            is_async=inspect.iscoroutinefunction(inspect.unwrap(fn)),
            source_file=_source_file(code),
            line=code.co_firstlineno,
            endpoints=_endpoints(endpoints, "sync", script_name, site),
        )
        _register(fn, spec.name, site, code)
        return spec

    return decorate


# --------------------------------------------------------------------------- action


@overload
def action(func: Function, /) -> NoReturn: ...


@overload
def action(
    *,
    input: type[BaseModel] | None = None,
    output: type[BaseModel] | None = None,
    scopes: Sequence[str] = (),
    description: str = "",
    version: str = "0.0.1",
    name: str | None = None,
    integration: str | None = None,
    endpoint: Endpoint | Mapping[str, str] | str | None = None,
) -> Callable[[Function], ActionSpec]: ...


def action(
    func: object = None,
    /,
    *,
    input: object = None,
    output: object = None,
    scopes: object = (),
    description: object = "",
    version: object = "0.0.1",
    name: object = None,
    integration: object = None,
    endpoint: object = None,
) -> Callable[[Function], ActionSpec]:
    """Declare an action: ``@action(input=NewIssue, output=Issue)`` on
    ``async def create_issue(nango: NangoAction, input: NewIssue) -> Issue``."""
    if func is not None:
        _called_without_arguments("action", func, "input=..., output=...")

    def decorate(fn: Function) -> ActionSpec:
        site, script_name, code = _inspect_function("action", fn, name)
        input_type = _check_optional_model("input", input, site)
        output_type = _check_optional_model("output", output, site)
        output_name = output_type.__name__ if output_type else "None"
        expected_signature = _signature(fn, "NangoAction", input_type, output_name)
        positional = _positional_parameters(fn, site, expected_signature)
        if len(positional) not in (1, 2):
            raise _wrong_count(
                site,
                positional,
                "two, the context and the input" if input_type else "one, the context",
                expected_signature,
            )
        if input_type is not None and len(positional) == 1:
            raise site.error(
                f"it declares input={input_type.__name__} but has no parameter to receive it",
                f'Add the parameter: "{expected_signature}".',
            )
        if input_type is None and len(positional) == 2:
            raise site.error(
                f'it takes a second parameter "{positional[1].name}" but declares no input model',
                "Add input=<a Pydantic model> to @action(...), or remove the parameter: "
                f'"{expected_signature}".',
            )
        spec = ActionSpec(
            func=fn,
            name=script_name,
            integration=_check_name("integration", integration, site),
            input=input_type,
            output=output_type,
            scopes=_check_scopes(scopes, site),
            description=_check_description(description, site),
            version=_check_version(version, site),
            is_async=inspect.iscoroutinefunction(inspect.unwrap(fn)),
            source_file=_source_file(code),
            takes_input=input_type is not None,
            line=code.co_firstlineno,
            endpoints=_endpoints(endpoint, "action", script_name, site),
        )
        _register(fn, spec.name, site, code)
        return spec

    return decorate


# --------------------------------------------------------------------------- checks


def _endpoints(value: object, kind: str, name: str, site: _Site) -> tuple[Endpoint, ...]:
    try:
        return check_endpoints(value, kind, name)
    except ValueError as exc:
        raise site.error(f"bad endpoint: {exc}", ENDPOINT_FIX[kind]) from None


def _called_without_arguments(kind: str, func: object, example: str) -> NoReturn:
    if inspect.isfunction(func):
        code = inspect.unwrap(func).__code__
        where = f"{display_path(code.co_filename)}:{code.co_firstlineno}"
        raise _Site(where, f'{kind} "{func.__name__}"').error(
            f"@{kind} is used without parentheses",
            f"Call it with its settings: @{kind}({example}).",
        )
    raise ScriptDefinitionError(
        f"{_caller_location(3)}, @{kind}: its settings are keyword arguments, "
        f"got the positional value {_describe(func)}.",
        hint=f"Write @{kind}({example}).",
    )


def _inspect_function(kind: str, fn: object, name: object) -> tuple[_Site, str, types.CodeType]:
    """The site of ``fn`` for messages, the script's name and the function's code."""
    if not inspect.isfunction(fn):
        raise ScriptDefinitionError(
            f"{_caller_location(3)}, @{kind}(...) is applied to {_describe(fn)}.",
            hint=f"Put @{kind}(...) directly above a def or async def function.",
        )
    code = inspect.unwrap(fn).__code__
    where = f"{display_path(code.co_filename)}:{code.co_firstlineno}"
    function_site = _Site(where, f'{kind} "{fn.__name__}"')
    script_name = _check_name("name", name, function_site) or fn.__name__
    label = f'{kind} "{script_name}"'
    if script_name != fn.__name__:
        label += f" (function {fn.__name__})"
    site = _Site(where, label)
    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        raise site.error(
            "it is a generator (it uses yield)",
            f"A {kind} does not yield: "
            + (
                "save records with await nango.batch_save(records, Model)."
                if kind == "sync"
                else "return its output."
            ),
        )
    return site, script_name, code


def _positional_parameters(fn: Function, site: _Site, fix: str) -> list[inspect.Parameter]:
    """The parameters the runtime passes positionally; anything it cannot pass is an error."""
    positional: list[inspect.Parameter] = []
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            raise site.error(f'"*{parameter.name}" is not allowed', f'Write "{fix}".')
        if parameter.kind is parameter.VAR_KEYWORD:
            raise site.error(f'"**{parameter.name}" is not allowed', f'Write "{fix}".')
        if parameter.kind is parameter.KEYWORD_ONLY:
            if parameter.default is parameter.empty:
                raise site.error(
                    f'keyword-only parameter "{parameter.name}" has no default and nothing '
                    "passes it",
                    f'Give it a default or remove it: "{fix}".',
                )
            continue
        positional.append(parameter)
    return positional


def _wrong_count(
    site: _Site, positional: list[inspect.Parameter], expected: str, fix: str
) -> ScriptDefinitionError:
    names = ", ".join(p.name for p in positional) or "none"
    return site.error(
        f"it takes {len(positional)} parameters ({names}); it must take {expected}",
        f'Write "{fix}".',
    )


def _signature(fn: Function, context: str, input_type: type[BaseModel] | None, returns: str) -> str:
    keyword = "async def" if inspect.iscoroutinefunction(fn) else "def"
    parameters = f"nango: {context}"
    if input_type is not None:
        parameters += f", input: {input_type.__name__}"
    return f"{keyword} {fn.__name__}({parameters}) -> {returns}"


def _check_models(models: object, site: _Site) -> tuple[type[BaseModel], ...]:
    if models is None:
        raise site.error(
            "models= is missing",
            'List the models it saves: @sync(models=[Issue], frequency="every hour").',
        )
    if not isinstance(models, list | tuple):
        example = models.__name__ if _is_model(models) else "Issue"
        raise site.error(
            f"models must be a list of Pydantic models, not {_describe(models)}",
            f"Write models=[{example}].",
        )
    if not models:
        raise site.error(
            "models is empty; a sync saves at least one model", "List them: models=[Issue]."
        )
    seen: dict[str, type[BaseModel]] = {}
    for model in models:
        if not _is_model(model):
            raise site.error(
                f"models holds {_describe(model)}, which is not a Pydantic model",
                "Each model is a class deriving from pydantic.BaseModel.",
            )
        _check_id(model, site)
        other = seen.setdefault(model.__name__, model)
        if other is not model:
            raise site.error(
                f"two models are called {model.__name__} ({other.__module__}.{other.__qualname__} "
                f"and {model.__module__}.{model.__qualname__}); records are stored by model name",
                "Rename one of the classes.",
            )
    return tuple(models)


def _check_id(model: type[BaseModel], site: _Site) -> None:
    field = model.model_fields.get("id")
    if field is None:
        raise site.error(
            f'model {model.__name__} has no "id" field',
            f'Add "id: str" (or int) to {model.__name__}.',
        )
    annotation = field.annotation
    allowed = {str, int}
    if annotation in allowed:
        return
    if (
        typing.get_origin(annotation) in (typing.Union, types.UnionType)
        and set(typing.get_args(annotation)) <= allowed
    ):
        return
    shown = getattr(annotation, "__name__", None) or repr(annotation)
    raise site.error(
        f'the "id" field of model {model.__name__} is {shown}; an id is a str or an int',
        f'Declare it as "id: str" (or int) in {model.__name__}.',
    )


def _check_optional_model(what: str, value: object, site: _Site) -> type[BaseModel] | None:
    if value is None or _is_model(value):
        return value
    raise site.error(
        f"{what}= must be a Pydantic model class, not {_describe(value)}",
        f"Pass a class deriving from pydantic.BaseModel, e.g. {what}=MyModel, or leave it out.",
    )


def _check_frequency(frequency: object, site: _Site) -> tuple[str, int]:
    """The phrase as written and its seconds."""
    if frequency is None:
        raise site.error(
            "frequency= is missing", 'Say how often it runs: frequency="every 30 minutes".'
        )
    if not isinstance(frequency, str):
        raise site.error(
            f"frequency must be a phrase, not {_describe(frequency)}",
            'Write e.g. frequency="every 30 minutes", "every hour" or "every 5m".',
        )
    try:
        return frequency, parse_frequency(frequency)
    except FrequencyError as exc:
        raise site.error(
            str(exc),
            'Write e.g. frequency="every 30 minutes", "every hour" or "every 5m" '
            "(30 seconds at least).",
        ) from None


def _check_bool(what: str, value: object, site: _Site) -> bool:
    if not isinstance(value, bool):
        raise site.error(
            f"{what} must be True or False, not {_describe(value)}",
            f"Write {what}=True or {what}=False.",
        )
    return value


def _check_scopes(scopes: object, site: _Site) -> tuple[str, ...]:
    if isinstance(scopes, list | tuple) and all(isinstance(s, str) for s in scopes):
        return tuple(scopes)
    example = f"[{scopes!r}]" if isinstance(scopes, str) else '["repo", "read:user"]'
    raise site.error(
        f"scopes must be a list of strings, not {_describe(scopes)}",
        f"Write scopes={example}.",
    )


def _check_description(description: object, site: _Site) -> str:
    if not isinstance(description, str):
        raise site.error(
            f"description must be a string, not {_describe(description)}",
            'Write description="What it does".',
        )
    return description


def _check_version(version: object, site: _Site) -> str:
    if isinstance(version, str) and _VERSION.fullmatch(version):
        return version
    raise site.error(
        f"version {version!r} is not a version number",
        'Write it as MAJOR.MINOR.PATCH, e.g. version="1.0.0".',
    )


def _check_name(what: str, value: object, site: _Site) -> str | None:
    if value is None or (isinstance(value, str) and _NAME.fullmatch(value)):
        return value
    raise site.error(
        f"{what} {value!r} is not a valid {'script' if what == 'name' else 'integration'} name",
        f"Use letters, digits, '-' and '_', starting with a letter or digit, e.g. {what}=\"github-issues\".",
    )


def _register(fn: Function, name: str, site: _Site, code: types.CodeType) -> None:
    """Refuse a second script of the same name in one module (the first would be lost).

    The same definition executed again (same file and line) is not a duplicate.
    """
    taken: dict[str, tuple[str, int]] = fn.__globals__.setdefault(_REGISTRY_KEY, {})
    here = (code.co_filename, code.co_firstlineno)
    previous = taken.get(name)
    if previous is not None and previous != here:
        raise site.error(
            f'the name "{name}" is already used by the script at line {previous[1]} of this file',
            'Give one of them another name with name="...".',
        )
    taken[name] = here


# --------------------------------------------------------------------------- helpers


def _is_model(value: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__name__}"
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({type(value).__name__})"


def _source_file(code: types.CodeType) -> Path | None:
    return None if code.co_filename.startswith("<") else Path(code.co_filename)


def _caller_location(depth: int) -> str:
    """``file:line`` of the frame ``depth`` levels up from here (3: the decorator's caller)."""
    frame = sys._getframe(depth)
    return f"{display_path(frame.f_code.co_filename)}:{frame.f_lineno}"
