"""Running scripts: the ``nango`` contexts and ``run_script``."""

from nango_scripts.runtime._blocking import BlockingNangoAction, BlockingNangoSync
from nango_scripts.runtime._context import NangoAction, NangoSync
from nango_scripts.runtime._results import (
    InvalidRecord,
    LogRecord,
    ModelCounts,
    RunError,
    RunResult,
)
from nango_scripts.runtime._run import run_script

__all__ = [
    "BlockingNangoAction",
    "BlockingNangoSync",
    "InvalidRecord",
    "LogRecord",
    "ModelCounts",
    "NangoAction",
    "NangoSync",
    "RunError",
    "RunResult",
    "run_script",
]
