"""Deciding when runs happen and doing them: dry runs and real runs now; the
scheduler, executors, webhook outbox and activity log as they arrive."""

from nango_scripts.engine._actions import ActionRunner
from nango_scripts.engine._dev import DevSession, ReloadOutcome, Runner, RunOutcome, RunReport
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
from nango_scripts.engine._watch import watch_project

__all__ = [
    "ActionRunner",
    "DevSession",
    "DryRun",
    "FoundScript",
    "ProjectScript",
    "ReloadOutcome",
    "RunFinished",
    "RunOutcome",
    "RunReport",
    "Runner",
    "Scheduler",
    "Service",
    "SyncRun",
    "find_project_script",
    "open_project_script",
    "watch_project",
]
