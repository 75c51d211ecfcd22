"""Deciding when runs happen and doing them: dry runs and real runs now; the
scheduler, executors, webhook outbox and activity log as they arrive."""

from nango_scripts.engine._actions import ActionRunner
from nango_scripts.engine._dryrun import DryRun
from nango_scripts.engine._project import (
    FoundScript,
    ProjectScript,
    find_project_script,
    open_project_script,
)
from nango_scripts.engine._run_once import SyncRun
from nango_scripts.engine._scheduler import RunFinished, Scheduler
from nango_scripts.engine._service import Service

__all__ = [
    "ActionRunner",
    "DryRun",
    "FoundScript",
    "ProjectScript",
    "RunFinished",
    "Scheduler",
    "Service",
    "SyncRun",
    "find_project_script",
    "open_project_script",
]
