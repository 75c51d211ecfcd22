"""One exception tree for everything nango-scripts raises on purpose.

    NangoScriptsError                 base; ``exit_code`` and ``hint`` drive the CLI
    +-- ConfigError                   nango.toml / environment / provider catalogue (exit 2)
    +-- ScriptDefinitionError         a @sync/@action misuse, raised at import time (exit 1)
    +-- ProjectError                  a project folder that cannot be loaded (exit 1)
    |   +-- ScriptNotFoundError       no script by that name (exit 2)
    |       +-- TemplateError         a template that is not there or not for that
    |                                 integration's provider (exit 2)
    +-- ConnectionNotFoundError       no such connection (exit 2)
    +-- CredentialsError              credentials missing or undecryptable (exit 1)
    |   +-- InvalidCredentialsError   credentials given in the wrong shape (exit 2)
    +-- HttpError                     a request to the integration's API failed (exit 1)
    |   +-- AuthRefreshError          an OAuth2 token could not be refreshed
    |   +-- InvalidRequestError       a request that cannot be sent as asked; nothing was sent
    +-- PaginationError               a pagination config or response that cannot be followed
    +-- RecordValidationError         records failed their model under --validate (exit 1)
    +-- ScriptRunError                anything else wrong with a run (undeclared model, ...)
    +-- RecordQueryError              a records read asked wrongly: bad cursor, limit... (exit 2)
    +-- LimitError                    a value that cannot be kept and read back: not JSON,
    |                                 nested too deep, too large, not Unicode text (exit 2)
    +-- StoreError                    the database refused or holds something unexpected
        +-- ConnectionExistsError     creating a connection that exists (exit 2)
    ActionError                       raised *by scripts*: an action's expected failure,
                                      returned to the caller with its payload

``ActionError`` deliberately does not derive from ``NangoScriptsError``: it is the
script's own answer, not a framework failure.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ActionError",
    "AuthRefreshError",
    "ConfigError",
    "ConnectionExistsError",
    "ConnectionNotFoundError",
    "CredentialsError",
    "HttpError",
    "InvalidCredentialsError",
    "InvalidRequestError",
    "LimitError",
    "NangoScriptsError",
    "PaginationError",
    "ProjectError",
    "RecordQueryError",
    "RecordValidationError",
    "ScriptDefinitionError",
    "ScriptNotFoundError",
    "ScriptRunError",
    "StoreError",
    "TemplateError",
]


class NangoScriptsError(Exception):
    """Base of every error nango-scripts raises on purpose.

    ``exit_code`` is what the CLI exits with (SPEC 5: 1 a script or run failed,
    2 bad usage); ``hint`` is an optional sentence telling the user what to do.
    """

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class ConfigError(NangoScriptsError):
    exit_code = 2


class ScriptDefinitionError(NangoScriptsError):
    """A script is defined wrongly. The message names the file, the function and the fix."""


class ProjectError(NangoScriptsError):
    pass


class ScriptNotFoundError(ProjectError):
    exit_code = 2


class TemplateError(ScriptNotFoundError):
    exit_code = 2


class ConnectionNotFoundError(NangoScriptsError):
    exit_code = 2


class CredentialsError(NangoScriptsError):
    pass


class InvalidCredentialsError(CredentialsError):
    """Credentials given by the user do not have one of Nango's shapes."""

    exit_code = 2


class HttpError(NangoScriptsError):
    """A request failed for good. ``url`` never carries a secret."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status: int | None = None,
        body: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.url = url
        self.status = status
        self.body = body


class AuthRefreshError(HttpError):
    pass


class InvalidRequestError(HttpError):
    """A request refused before anything was sent: an endpoint that leaves the base URL,
    a URL httpx cannot send (bad port, too long), a header value HTTP cannot carry."""


class PaginationError(NangoScriptsError):
    pass


class RecordValidationError(NangoScriptsError):
    pass


class ScriptRunError(NangoScriptsError):
    pass


class StoreError(NangoScriptsError):
    pass


class RecordQueryError(NangoScriptsError):
    """A read of records asked for something wrong (bad cursor, limit out of range...)."""

    exit_code = 2


class LimitError(NangoScriptsError):
    """A value the service could not keep and read back: not JSON, nested too deep, too
    large, or text that is not Unicode. The message names the value and the limit."""

    exit_code = 2


class ConnectionExistsError(StoreError):
    exit_code = 2


class ActionError(Exception):
    """Raise from an action to fail it with a payload the caller receives as is."""

    def __init__(self, payload: Any = None) -> None:
        super().__init__(payload)
        self.payload = payload
