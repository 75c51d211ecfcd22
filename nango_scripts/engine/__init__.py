"""Deciding when runs happen and doing them: dry runs now; scheduler, executors,
webhook outbox and activity log as they arrive."""

from nango_scripts.engine._dryrun import DryRun

__all__ = ["DryRun"]
