"""The error of the cassette machinery."""

from __future__ import annotations

from nango_scripts.errors import NangoScriptsError

__all__ = ["CassetteError"]


class CassetteError(NangoScriptsError):
    """A cassette is missing or unreadable, or a replayed script made a request it lacks.

    The message names the request (``METHOD URL``) and the hint says how to re-record.
    """

    exit_code = 1
