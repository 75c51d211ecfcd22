"""Deciding when runs happen and doing them: dry runs and real runs now; the
scheduler, executors, webhook outbox and activity log as they arrive."""

from nango_scripts.engine._dryrun import DryRun
from nango_scripts.engine._project import ProjectScript, open_project_script
from nango_scripts.engine._run_once import SyncRun
from nango_scripts.engine._scheduler import RunFinished, Scheduler

__all__ = [
    "DryRun",
    "ProjectScript",
    "RunFinished",
    "Scheduler",
    "SyncRun",
    "open_project_script",
]
