"""The pure parts of webhooks: payloads (SPEC 7), targets, body bytes, signatures,
the retry schedule, and the settings that drive them."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nango_scripts._iso_time import iso_millis
from nango_scripts.engine import SyncOutcome, plan_sync_webhooks, retry_delay, sync_webhook_payloads
from nango_scripts.engine._webhook_payloads import encode_body, target_urls, webhook_headers
from nango_scripts.engine._webhook_retry import retry_schedule
from nango_scripts.errors import ConfigError
from nango_scripts.settings import WebhookSettings, load_settings

STARTED = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
FAILED = STARTED + timedelta(seconds=3)
HOOKS = WebhookSettings(url="http://backend.test/hook")


def outcome(**changes: object) -> SyncOutcome:
    fields: dict[str, object] = {
        "integration_id": "github",
        "connection_id": "acme",
        "sync_name": "issues",
        "models": ["Issue", "Comment"],
        "sync_type": "INCREMENTAL",
        "started_at": STARTED,
        "success": True,
        "counts": {"Issue": {"added": 1, "updated": 2, "deleted": 0}},
    }
    return SyncOutcome(**(fields | changes))  # type: ignore[arg-type]


def test_success_payload_is_exactly_spec_7() -> None:
    [payload] = sync_webhook_payloads(outcome(), HOOKS)
    assert payload == {
        "from": "nango",
        "type": "sync",
        "connectionId": "acme",
        "providerConfigKey": "github",
        "syncName": "issues",
        "model": "Issue",
        "syncType": "INCREMENTAL",
        "success": True,
        "responseResults": {"added": 1, "updated": 2, "deleted": 0},
        "modifiedAfter": "2024-05-01T10:00:00.123Z",
        "queryTimeStamp": "2024-05-01T10:00:00.123Z",
    }
    assert list(payload) == [
        "from",
        "type",
        "connectionId",
        "providerConfigKey",
        "syncName",
        "model",
        "syncType",
        "success",
        "responseResults",
        "modifiedAfter",
        "queryTimeStamp",
    ]


def test_unchanged_models_are_sent_only_with_on_sync_completion_always() -> None:
    quiet = sync_webhook_payloads(outcome(), HOOKS)
    assert [p["model"] for p in quiet] == ["Issue"]
    always = WebhookSettings(url="http://backend.test/hook", on_sync_completion_always=True)
    loud = sync_webhook_payloads(outcome(), always)
    assert [p["model"] for p in loud] == ["Issue", "Comment"]
    assert loud[1]["responseResults"] == {"added": 0, "updated": 0, "deleted": 0}
    assert sync_webhook_payloads(outcome(counts={}), HOOKS) == []


def test_a_delete_alone_is_a_change() -> None:
    payloads = sync_webhook_payloads(outcome(counts={"Comment": {"deleted": 4}}), HOOKS)
    assert [(p["model"], p["responseResults"]) for p in payloads] == [
        ("Comment", {"added": 0, "updated": 0, "deleted": 4})
    ]


def test_failure_payload_is_exactly_spec_7() -> None:
    failed = outcome(
        success=False,
        sync_type="INITIAL",
        error_type="http_error",
        error_description="GET /issues answered 500",
        failed_at=FAILED,
    )
    payloads = sync_webhook_payloads(failed, HOOKS)
    assert [p["model"] for p in payloads] == ["Issue", "Comment"]
    assert payloads[0] == {
        "from": "nango",
        "type": "sync",
        "connectionId": "acme",
        "providerConfigKey": "github",
        "syncName": "issues",
        "model": "Issue",
        "syncType": "INITIAL",
        "success": False,
        "error": {"type": "http_error", "description": "GET /issues answered 500"},
        "startedAt": "2024-05-01T10:00:00.123Z",
        "failedAt": "2024-05-01T10:00:03.123Z",
    }
    silent = WebhookSettings(url="http://backend.test/hook", on_sync_error=False)
    assert sync_webhook_payloads(failed, silent) == []


def test_targets_primary_secondary_and_the_connections_override() -> None:
    both = WebhookSettings(url="http://a.test/h", secondary_url="http://b.test/h")
    assert target_urls(both) == ["http://a.test/h", "http://b.test/h"]
    assert target_urls(both, "http://mine.test/h") == ["http://mine.test/h"]
    assert target_urls(WebhookSettings(secondary_url="http://b.test/h")) == ["http://b.test/h"]
    assert target_urls(WebhookSettings(url="http://a.test/h", secondary_url="http://a.test/h")) == [
        "http://a.test/h"
    ]
    assert target_urls(WebhookSettings()) == []
    assert target_urls(WebhookSettings(), "http://mine.test/h") == ["http://mine.test/h"]


def test_the_plan_adds_track_deletes_and_sends_the_same_body_to_every_url() -> None:
    both = WebhookSettings(url="http://a.test/h", secondary_url="http://b.test/h")
    plan = plan_sync_webhooks(both, outcome())
    assert plan is not None
    entries = plan({"Comment": 2})
    assert [e.url for e in entries] == ["http://a.test/h", "http://b.test/h"] * 2
    bodies = [json.loads(e.body) for e in entries]
    assert bodies[0] == bodies[1] and bodies[2] == bodies[3]
    assert [(b["model"], b["responseResults"]["deleted"]) for b in bodies[::2]] == [
        ("Issue", 0),
        ("Comment", 2),
    ]
    assert plan_sync_webhooks(WebhookSettings(), outcome()) is None


def test_the_body_is_compact_utf8_json_and_signed_byte_for_byte() -> None:
    body = encode_body({"from": "nango", "model": "Ticket", "description": "café ☕ \u2028"})
    assert body == '{"from":"nango","model":"Ticket","description":"café ☕ \u2028"}'
    raw = body.encode()
    headers = webhook_headers("sk_secret", raw, "abc123")
    assert headers["X-Nango-Hmac-Sha256"] == hmac.new(b"sk_secret", raw, "sha256").hexdigest()
    assert headers["X-Nango-Signature"] == hashlib.sha256(b"sk_secret" + raw).hexdigest()
    assert headers["X-Nango-Webhook-Id"] == "abc123"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("nango-scripts/")


def test_iso_millis_writes_javascripts_iso_format() -> None:
    assert iso_millis(datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)) == (
        "2024-01-02T03:04:05.999Z"
    )
    assert iso_millis(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05.000Z"


def test_retry_delay_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    waits = [retry_delay(n, base_s=5, max_s=60) for n in range(1, 7)]
    assert waits == [5, 10, 20, 40, 60, 60]
    assert retry_delay(3, base_s=5, max_s=60, jitter=0.25, rand=0.999) == pytest.approx(
        20 * (1 - 0.25 * 0.999)
    )
    for rand in (0.0, 0.3, 0.99):
        wait = retry_delay(4, base_s=1, max_s=100, jitter=0.5, rand=rand)
        assert 4 <= wait <= 8
    assert retry_delay(500, base_s=1, max_s=30) == 30  # no overflow far out
    with pytest.raises(ValueError):
        retry_delay(0, base_s=1, max_s=2)


def test_the_default_schedule_retries_for_more_than_an_hour_even_with_jitter() -> None:
    defaults = WebhookSettings()
    worst = retry_schedule(defaults, jitter=0.25)
    assert len(worst) == defaults.max_attempts - 1
    assert sum(worst) > 3600
    assert max(retry_schedule(defaults)) == defaults.retry_max_s


def test_retry_settings_from_nango_toml_and_environment(tmp_path: Path) -> None:
    (tmp_path / "nango.toml").write_text(
        "[webhooks]\nurl = 'http://a.test'\nmax_attempts = 4\nretry_base_s = 0.5\n"
        "retry_max_s = 30\ntimeout_s = 2\n"
    )
    hooks = load_settings(tmp_path, env={}).webhooks
    assert (hooks.max_attempts, hooks.retry_base_s, hooks.retry_max_s, hooks.timeout_s) == (
        4,
        0.5,
        30,
        2,
    )
    env = {
        "NANGO_WEBHOOK_MAX_ATTEMPTS": "7",
        "NANGO_WEBHOOK_RETRY_BASE_S": "0.05",
        "NANGO_WEBHOOK_RETRY_MAX_S": "1",
        "NANGO_WEBHOOK_TIMEOUT_S": "0.5",
    }
    hooks = load_settings(tmp_path, env=env).webhooks
    assert (hooks.max_attempts, hooks.retry_base_s, hooks.retry_max_s, hooks.timeout_s) == (
        7,
        0.05,
        1,
        0.5,
    )


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("max_attempts = 0", {}, r"max_attempts = 0: expected a whole number above 0"),
        ("max_attempts = 2.5", {}, r"expected a whole number"),
        ("timeout_s = 'soon'", {}, r"timeout_s = 'soon': expected a number above 0"),
        ("", {"NANGO_WEBHOOK_RETRY_BASE_S": "fast"}, r"NANGO_WEBHOOK_RETRY_BASE_S = 'fast'"),
        ("", {"NANGO_WEBHOOK_MAX_ATTEMPTS": "-1"}, r"NANGO_WEBHOOK_MAX_ATTEMPTS = -1"),
    ],
)
def test_bad_retry_settings_are_clear_errors(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    (tmp_path / "nango.toml").write_text(f"[webhooks]\n{toml}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, env=env)
