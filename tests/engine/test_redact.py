"""engine/_redact.py: URLs cut down to what may be shown, and the one rule for names of
secrets, whoever sent the value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nango_scripts.engine import SecretScrubber, shown_url
from nango_scripts.engine._redact import MASK, masked_error, masked_log, without_url
from nango_scripts.runtime import LogRecord, RunError, RunResult

SLACK = "https://hooks.slack.com/services/T0001/B0002/xoxb5f1aTokenInThePath"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SLACK, "https://hooks.slack.com/services/***"),
        (
            "https://discord.com/api/webhooks/1234/tok-en_5678",
            "https://discord.com/api/***",
        ),
        ("https://example.com/nango-webhook", "https://example.com/nango-webhook"),
        ("https://example.com/nango-webhook/", "https://example.com/nango-webhook/"),
        ("https://example.com/hook?token=abc&x=1", "https://example.com/hook?***"),
        ("https://example.com?token=abc", "https://example.com?***"),
        ("https://example.com/hook#secret", "https://example.com/hook#***"),
        ("https://example.com", "https://example.com"),
        ("https://example.com/", "https://example.com/"),
        ("http://user:pw@127.0.0.1:8080/a/b", "http://127.0.0.1:8080/a/***"),
        ("  https://example.com/a/b  ", "https://example.com/a/***"),
        ("http://[::1/a/b", "http://[::1/a/***"),  # no parser accepts it: cut all the same
        ("hooks.slack.com/services/T/B/tok", MASK),  # no scheme: no telling host from token
        ("", ""),
    ],
)
def test_a_url_is_shown_down_to_scheme_host_and_first_segment(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_an_error_quoting_the_url_shows_it_cut_and_masks_its_parts() -> None:
    error = f"InvalidURL: {SLACK} (token xoxb5f1aTokenInThePath, path T0001%2FB0002)"
    masked = without_url(error, SLACK)
    assert masked.startswith("InvalidURL: https://hooks.slack.com/services/*** (token ***")
    assert "xoxb5f1aTokenInThePath" not in masked and "T0001" not in masked
    assert without_url("ConnectError: refused", SLACK) == "ConnectError: refused"
    assert "pw-secret" not in without_url(
        "at http://u:pw-secret@h/x: pw-secret", "http://u:pw-secret@h/x"
    )


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "X-Api-Key",
        "api_key",
        "apiKey",
        "Cookie",
        "session",
        "Session-Id",
        "sessionToken",
        "refresh_token",
        "client_secret",
        "password",
        "passwd",
        "private-key",
        "X-Hmac",
        "jwt",
        "credentials",
    ],
)
def test_fields_named_like_a_secret_are_masked(name: str) -> None:
    scrubber = SecretScrubber()
    assert scrubber.value({name: "v-1234", "nested": {name: ["v-1234"]}}) == {
        name: MASK,
        "nested": {name: MASK},
    }


@pytest.mark.parametrize("name", ["status", "url", "method", "model", "count", "X-Custom"])
def test_other_fields_are_kept(name: str) -> None:
    assert SecretScrubber().value({name: "v-1234"}) == {name: "v-1234"}


def test_values_a_caller_sent_are_masked_wherever_they_appear() -> None:
    scrubber = SecretScrubber({"apiKey": "key-0001"}).with_values(["caller value/1", "ab"])
    text = "key-0001 caller value/1 caller%20value%2F1 caller+value%2F1 ab"
    assert scrubber.text(text) == f"{MASK} {MASK} {MASK} {MASK} ab"  # too short to mask
    scrubber.add({"access_token": "refreshed-2"})
    assert scrubber.text("key-0001 refreshed-2 caller value/1") == f"{MASK} {MASK} {MASK}"


def test_a_run_error_and_the_printed_log_are_masked() -> None:
    scrub = SecretScrubber({"type": "API_KEY", "apiKey": "k-PLANTED"})
    result = RunResult(
        script="s",
        integration_id="i",
        connection_id="c",
        kind="action",
        success=False,
        started_at=datetime.now(UTC),
        duration_s=0.0,
        error=RunError("http_error", 'GET /x failed with 401: {"bad key": "k-PLANTED"}'),
    )
    assert masked_error(result, scrub).error == RunError(
        "http_error", 'GET /x failed with 401: {"bad key": "***"}'
    )
    printed: list[LogRecord] = []
    log = masked_log(printed.append, scrub)
    assert log is not None and masked_log(None, scrub) is None
    log(LogRecord(datetime.now(UTC), "error", "echo k-PLANTED", {"body": "k-PLANTED", "n": 1}))
    assert (printed[0].message, printed[0].fields) == ("echo ***", {"body": "***", "n": 1})
