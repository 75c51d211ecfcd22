"""Deciding when runs happen and doing them: dry runs and real runs now; the
scheduler, executors, webhook outbox and activity log as they arrive."""

from nango_scripts.engine._actions import ActionRunner
from nango_scripts.engine._activity import (
    ActivityRecorder,
    OperationRecorder,
    record_connection_change_now,
)
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
from nango_scripts.engine._webhooks import (
    DeliveryReport,
    RunDelivery,
    SyncOutcome,
    WebhookDelivery,
    plan_sync_webhooks,
    resolve_signing_key,
    retry_delay,
    send_run_webhooks,
    sign_body,
    sync_webhook_payloads,
)

__all__ = [
    "ActionRunner",
    "ActivityRecorder",
    "DeliveryReport",
    "DevSession",
    "DryRun",
    "FoundScript",
    "OperationRecorder",
    "ProjectScript",
    "ReloadOutcome",
    "RunDelivery",
    "RunFinished",
    "RunOutcome",
    "RunReport",
    "Runner",
    "Scheduler",
    "Service",
    "SyncOutcome",
    "SyncRun",
    "WebhookDelivery",
    "find_project_script",
    "open_project_script",
    "plan_sync_webhooks",
    "record_connection_change_now",
    "resolve_signing_key",
    "retry_delay",
    "send_run_webhooks",
    "sign_body",
    "sync_webhook_payloads",
    "watch_project",
]
