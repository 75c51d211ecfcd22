"""Deciding when runs happen and doing them: dry runs, real runs, the scheduler, the
webhook outbox, the Activity log, and finding the project and the script a command runs."""

from nango_scripts.engine._actions import ActionRunner
from nango_scripts.engine._activity import ActivityRecorder, record_connection_change_now
from nango_scripts.engine._dev import DevSession, ReloadOutcome, RerunReport, Runner, RunWithRecords
from nango_scripts.engine._dryrun import DryRun
from nango_scripts.engine._operation_recorder import OperationRecorder
from nango_scripts.engine._project import (
    FoundScript,
    ProjectScript,
    find_project_dir,
    find_project_script,
    open_project_script,
)
from nango_scripts.engine._redact import SecretScrubber, shown_url
from nango_scripts.engine._run_once import SyncRunner
from nango_scripts.engine._scheduler import (
    RETRY_INTERRUPTED_S,
    FinishedSyncRun,
    Scheduler,
    interrupted_retry_delay,
)
from nango_scripts.engine._secret_key import (
    SECRET_KEY_PREFIX,
    new_secret_key,
    resolve_secret_key,
    rotate_secret_key,
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
from nango_scripts.engine._unconfigured import unconfigured_integrations
from nango_scripts.engine._watch import watch_project
from nango_scripts.engine._webhook_payloads import (
    SyncOutcome,
    plan_sync_webhooks,
    sign_body,
    sync_webhook_payloads,
)
from nango_scripts.engine._webhook_retry import retry_delay
from nango_scripts.engine._webhooks import (
    DeliveryReport,
    WebhookDelivery,
    send_run_webhooks,
)

__all__ = [
    "RETRY_INTERRUPTED_S",
    "SECRET_KEY_PREFIX",
    "ActionRunner",
    "ActivityRecorder",
    "DeliveryReport",
    "DevSession",
    "DryRun",
    "FinishedSyncRun",
    "FoundScript",
    "OperationRecorder",
    "ProjectScript",
    "ReloadOutcome",
    "RerunReport",
    "RunWithRecords",
    "Runner",
    "Scheduler",
    "SecretScrubber",
    "Service",
    "SyncOutcome",
    "SyncRunner",
    "TemplateRow",
    "WebhookDelivery",
    "check_templates",
    "compose",
    "describe",
    "enabled_names",
    "find_project_dir",
    "find_project_script",
    "index_document",
    "interrupted_retry_delay",
    "new_secret_key",
    "open_project_script",
    "plan_sync_webhooks",
    "read_enabled",
    "record_connection_change_now",
    "resolve_secret_key",
    "retry_delay",
    "rotate_secret_key",
    "send_run_webhooks",
    "served_project",
    "set_templates",
    "shown_url",
    "sign_body",
    "sync_webhook_payloads",
    "template_rows",
    "unconfigured_integrations",
    "watch_project",
]
