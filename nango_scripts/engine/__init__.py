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
from nango_scripts.engine._redact import SecretScrubber, shown_url
from nango_scripts.engine._run_once import SyncRun
from nango_scripts.engine._scheduler import (
    RETRY_INTERRUPTED_S,
    RunFinished,
    Scheduler,
    interrupted_retry_delay,
)
from nango_scripts.engine._service import Service
from nango_scripts.engine._templates import (
    TemplateRow,
    check_templates,
    compose,
    describe,
    enabled_names,
    index_document,
    read_enabled,
    served_project,
    set_templates,
    template_rows,
)
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
    "RETRY_INTERRUPTED_S",
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
    "SecretScrubber",
    "Service",
    "SyncOutcome",
    "SyncRun",
    "TemplateRow",
    "WebhookDelivery",
    "check_templates",
    "compose",
    "describe",
    "enabled_names",
    "find_project_script",
    "index_document",
    "interrupted_retry_delay",
    "open_project_script",
    "plan_sync_webhooks",
    "read_enabled",
    "record_connection_change_now",
    "resolve_signing_key",
    "retry_delay",
    "send_run_webhooks",
    "served_project",
    "set_templates",
    "shown_url",
    "sign_body",
    "sync_webhook_payloads",
    "template_rows",
    "watch_project",
]
