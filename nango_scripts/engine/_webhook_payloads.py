"""Webhooks to the user's backend (SPEC 7): what is sent, as pure functions of a run.

After a sync run, one POST per model to each target URL (the connection's
``webhook_url_override``, else the environment's primary and secondary URLs), sent when
the model changed or always with ``on_sync_completion_always``; a failed run sends
failure payloads when ``on_sync_error``. :func:`plan_sync_webhooks` turns a run into a
plan that ``SqlRecordStore.finish_run`` writes to the outbox in the transaction that
ends the run. :func:`webhook_headers` are the headers of one POST, signed with the
secret key (``X-Nango-Hmac-Sha256``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from nango_scripts import __version__
from nango_scripts._iso_time import iso_millis
from nango_scripts.runtime import RunResult
from nango_scripts.settings import WebhookSettings
from nango_scripts.store import OutboxEntry

__all__ = [
    "ID_HEADER",
    "LEGACY_SIGNATURE_HEADER",
    "SIGNATURE_HEADER",
    "USER_AGENT",
    "SyncOutcome",
    "encode_body",
    "plan_for_run",
    "plan_sync_webhooks",
    "sign_body",
    "sync_webhook_payloads",
    "target_urls",
    "webhook_headers",
]

SIGNATURE_HEADER: Final = "X-Nango-Hmac-Sha256"
LEGACY_SIGNATURE_HEADER: Final = "X-Nango-Signature"
ID_HEADER: Final = "X-Nango-Webhook-Id"
USER_AGENT: Final = f"nango-scripts/{__version__}"

SyncType = Literal["INITIAL", "INCREMENTAL"]


def encode_body(payload: Mapping[str, Any]) -> str:
    """Compact JSON, non-ASCII kept: byte for byte what ``JSON.stringify`` gives."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sign_body(secret_key: str, body: bytes) -> str:
    """``X-Nango-Hmac-Sha256``: hex HMAC-SHA256 of the raw body with the secret key."""
    return hmac.new(secret_key.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(secret_key: str, body: bytes, delivery_id: str) -> dict[str, str]:
    """The headers of one POST. ``X-Nango-Signature`` is Nango's older unkeyed
    ``sha256(key + body)``, kept for receivers still checking it."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign_body(secret_key, body),
        LEGACY_SIGNATURE_HEADER: hashlib.sha256(secret_key.encode() + body).hexdigest(),
        ID_HEADER: delivery_id,
    }


def target_urls(settings: WebhookSettings, override: str | None = None) -> list[str]:
    """Where a connection's webhooks go: its override alone, else primary and secondary."""
    if override:
        return [override]
    urls = [u for u in (settings.url, settings.secondary_url) if u]
    return list(dict.fromkeys(urls))


@dataclass(frozen=True)
class SyncOutcome:
    """What the payloads of one sync run are made of."""

    integration_id: str
    connection_id: str
    sync_name: str
    models: Sequence[str]
    sync_type: SyncType
    started_at: datetime
    success: bool
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Per model: ``added``, ``updated``, ``deleted`` (missing counts are 0)."""
    error_type: str = "script_error"
    error_description: str = ""
    failed_at: datetime | None = None


def sync_webhook_payloads(outcome: SyncOutcome, settings: WebhookSettings) -> list[dict[str, Any]]:
    """The payloads of one run, one per model, in model order (SPEC 7).

    Success: only models with a change, unless ``on_sync_completion_always``.
    Failure: every model, if ``on_sync_error``.
    """
    payloads: list[dict[str, Any]] = []
    for model in outcome.models:
        base: dict[str, Any] = {
            "from": "nango",
            "type": "sync",
            "connectionId": outcome.connection_id,
            "providerConfigKey": outcome.integration_id,
            "syncName": outcome.sync_name,
            "model": model,
            "syncType": outcome.sync_type,
        }
        if outcome.success:
            counts = outcome.counts.get(model, {})
            results = {k: int(counts.get(k, 0)) for k in ("added", "updated", "deleted")}
            if not any(results.values()) and not settings.on_sync_completion_always:
                continue
            started = iso_millis(outcome.started_at)
            base |= {
                "success": True,
                "responseResults": results,
                "modifiedAfter": started,
                "queryTimeStamp": started,
            }
        else:
            if not settings.on_sync_error:
                continue
            base |= {
                "success": False,
                "error": {"type": outcome.error_type, "description": outcome.error_description},
                "startedAt": iso_millis(outcome.started_at),
                "failedAt": iso_millis(outcome.failed_at or outcome.started_at),
            }
        payloads.append(base)
    return payloads


def plan_sync_webhooks(
    settings: WebhookSettings,
    outcome: SyncOutcome,
    *,
    url_override: str | None = None,
) -> Callable[[Mapping[str, int]], list[OutboxEntry]] | None:
    """The plan ``finish_run`` calls with the deletions ``track_deletes`` applied, or
    None when there is nowhere to send to."""
    urls = target_urls(settings, url_override)
    if not urls:
        return None

    def plan(deleted: Mapping[str, int]) -> list[OutboxEntry]:
        counts = {
            model: {
                "added": int(outcome.counts.get(model, {}).get("added", 0)),
                "updated": int(outcome.counts.get(model, {}).get("updated", 0)),
                "deleted": int(outcome.counts.get(model, {}).get("deleted", 0))
                + int(deleted.get(model, 0)),
            }
            for model in outcome.models
        }
        final = dataclasses.replace(outcome, counts=counts)
        bodies = [encode_body(p) for p in sync_webhook_payloads(final, settings)]
        return [OutboxEntry(url=url, body=body) for body in bodies for url in urls]

    return plan


def plan_for_run(
    settings: WebhookSettings,
    *,
    integration_id: str,
    connection_id: str,
    sync_name: str,
    models: Sequence[str],
    run_type: str,
    started_at: datetime,
    result: RunResult | None,
    error: str | None,
    cancelled: bool = False,
    timed_out: bool = False,
    url_override: str | None = None,
) -> Callable[[Mapping[str, int]], list[OutboxEntry]] | None:
    """:func:`plan_sync_webhooks` for a run as ``SyncRunner`` ends it: ``result`` is None
    when the run was cancelled (or timed out) before the script returned."""
    if not target_urls(settings, url_override):
        return None
    names = list(dict.fromkeys([*models, *(result.models if result is not None else {})]))
    counts: dict[str, dict[str, int]] = {}
    if result is not None:
        counts = {
            model: {"added": c.added, "updated": c.updated, "deleted": c.deleted}
            for model, c in result.models.items()
        }
    if result is not None and result.error is not None:
        error_type = result.error.type
    elif timed_out:
        error_type = "timeout"
    elif cancelled:
        error_type = "cancelled"
    else:
        error_type = "internal_error"
    outcome = SyncOutcome(
        integration_id=integration_id,
        connection_id=connection_id,
        sync_name=sync_name,
        models=names,
        sync_type="INCREMENTAL" if run_type == "INCREMENTAL" else "INITIAL",
        started_at=result.started_at if result is not None else started_at,
        success=result is not None and result.success,
        counts=counts,
        error_type=error_type,
        error_description=error or "",
        failed_at=datetime.now(UTC),
    )
    return plan_sync_webhooks(settings, outcome, url_override=url_override)
