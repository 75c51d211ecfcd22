"""The pure parts: scrubbing, request matching, snapshot diffs, the public names."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

import nango_scripts.testing as testing
from nango_scripts.errors import NangoScriptsError
from nango_scripts.providers import ProviderConfig
from nango_scripts.testing._match import make_matchers
from nango_scripts.testing._scrub import (
    FAR_FUTURE,
    REDACTED,
    Scrubber,
    placeholder_credentials,
)
from nango_scripts.testing._snapshot import snapshot_diff

API_KEY = "sk_live_abcdef123456"
PROVIDER = ProviderConfig(
    name="x",
    base_url="https://api.example.com",
    auth="api_key",
    api_key_header="X-Api-Key",
    api_key_format="{api_key}",
)


def request(uri: str, body: bytes | None = None, **headers: str) -> Any:
    return SimpleNamespace(
        uri=uri, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def test_placeholder_credentials_keep_the_shape_and_push_expiry_away() -> None:
    assert placeholder_credentials(
        {
            "type": "OAUTH2",
            "access_token": "a",
            "refresh_token": "r",
            "expires_at": "2020-01-01T00:00:00Z",
            "raw": {"access_token": "a"},
        }
    ) == {
        "type": "OAUTH2",
        "access_token": "<<access_token>>",
        "refresh_token": "<<refresh_token>>",
        "expires_at": FAR_FUTURE,
    }
    assert placeholder_credentials({"type": "BASIC", "username": "u", "password": ""}) == {
        "type": "BASIC",
        "username": "<<username>>",
        "password": "",
    }


def test_urls_lose_userinfo_secret_parameters_and_known_secrets() -> None:
    scrub = Scrubber(
        ProviderConfig(name="q", base_url="https://q", auth="api_key", api_key_query="key"),
        {"type": "API_KEY", "apiKey": API_KEY},
    )
    assert scrub.uri(f"https://u:p@q.example/v1/{API_KEY}/items?key={API_KEY}&page=2") == (
        "https://q.example/v1/<<apiKey>>/items?key=%3C%3Ckey%3E%3E&page=2"
    )
    assert scrub.uri("https://q.example/items?access_token=tok123&page=2") == (
        "https://q.example/items?access_token=%3C%3Caccess_token%3E%3E&page=2"
    )


def test_url_encoded_and_json_escaped_secrets_are_found() -> None:
    secret = 'p@ss/w"rd+1'
    scrub = Scrubber(PROVIDER, {"type": "BASIC", "username": "someone", "password": secret})
    assert scrub.text("x=p%40ss%2Fw%22rd%2B1") == "x=<<password>>"
    assert scrub.text(json.dumps({"note": f"is {secret}"})) == '{"note": "is <<password>>"}'


def test_token_fields_are_replaced_and_learned_for_later() -> None:
    scrub = Scrubber(PROVIDER, {})
    body = scrub.body(b'{"access_token": "fresh-token-1", "expires_in": 60}', "application/json")
    assert json.loads(body or b"") == {"access_token": "<<access_token>>", "expires_in": 60}
    assert scrub.text("Bearer fresh-token-1 again") == "Bearer <<access_token>> again"
    form = scrub.body(
        b"grant_type=refresh_token&refresh_token=rt-999", "application/x-www-form-urlencoded"
    )
    assert form == b"grant_type=refresh_token&refresh_token=%3C%3Crefresh_token%3E%3E"
    assert scrub.text("rt-999") == "<<refresh_token>>"


def test_short_secrets_are_replaced_only_as_whole_values() -> None:
    scrub = Scrubber(PROVIDER, {"type": "BASIC", "username": "ada", "password": "xyz1"})
    assert scrub.data({"user": "ada", "bio": "adam reads"}) == {
        "user": "<<username>>",
        "bio": "adam reads",
    }


def test_placeholders_are_never_scrubbed_again() -> None:
    scrub = Scrubber(PROVIDER, {"type": "BASIC", "username": "someone", "password": "token"})
    assert scrub.text("<<access_token>> and token") == "<<access_token>> and <<password>>"
    assert scrub.text(scrub.text("token")) == "<<password>>"


def test_request_headers_with_credentials_are_redacted() -> None:
    scrub = Scrubber(PROVIDER, {"type": "API_KEY", "apiKey": API_KEY})
    scrubbed = scrub.request(
        request(
            "https://api.example.com/items",
            json.dumps({"key": API_KEY}).encode(),
            Authorization="Bearer x",
            Cookie="s=1",
            X_Api_Key=API_KEY,
            X_Auth_Token="t",
            Content_Type="application/json",
            X_Trace=f"trace-{API_KEY}",
        )
    )
    assert scrubbed.headers == {
        "Authorization": REDACTED,
        "Cookie": REDACTED,
        "X-Api-Key": REDACTED,
        "X-Auth-Token": REDACTED,
        "Content-Type": "application/json",
        "X-Trace": "trace-<<apiKey>>",
    }
    assert scrubbed.body == b'{"key": "<<apiKey>>"}'


def test_responses_lose_cookies_and_keep_a_true_content_length() -> None:
    scrub = Scrubber(PROVIDER, {"type": "API_KEY", "apiKey": API_KEY})
    body = json.dumps({"echo": API_KEY}).encode()
    scrubbed = scrub.response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {
                "Set-Cookie": ["a=1", "b=2"],
                "Content-Length": [str(len(body))],
                "Link": [f'<https://api.example.com/items?page=2&k={API_KEY}>; rel="next"'],
            },
            "body": {"string": body},
        }
    )
    assert scrubbed["body"]["string"] == b'{"echo": "<<apiKey>>"}'
    assert scrubbed["headers"] == {
        "Set-Cookie": [REDACTED, REDACTED],
        "Content-Length": [str(len(b'{"echo": "<<apiKey>>"}'))],
        "Link": ['<https://api.example.com/items?page=2&k=<<apiKey>>>; rel="next"'],
    }


def test_binary_bodies_are_scrubbed_byte_wise() -> None:
    scrub = Scrubber(PROVIDER, {"type": "API_KEY", "apiKey": API_KEY})
    assert scrub.body(b"\xff\xfe" + API_KEY.encode(), "") == b"\xff\xfe<<apiKey>>"


QUERY, BODY = make_matchers(frozenset({"api_key"}))


def test_query_matches_in_any_order_and_ignores_secret_parameters() -> None:
    QUERY(request("https://a/x?b=2&a=1&api_key=new"), request("https://b/x?a=1&b=2&api_key=old"))
    with pytest.raises(
        AssertionError, match=re.escape('{"page": "3"} here, {"page": "2"} recorded')
    ):
        QUERY(request("https://a/x?page=3"), request("https://a/x?page=2"))


def test_json_bodies_match_parsed_and_form_bodies_sorted() -> None:
    json_type = {"content-type": "application/json"}
    BODY(
        SimpleNamespace(body=b'{"a": 1, "b": [1, 2]}', headers=json_type),
        SimpleNamespace(body=b'{"b":[1,2],"a":1}', headers=json_type),
    )
    with pytest.raises(AssertionError):
        BODY(
            SimpleNamespace(body=b'{"b": [2, 1]}', headers=json_type),
            SimpleNamespace(body=b'{"b": [1, 2]}', headers=json_type),
        )
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    BODY(
        SimpleNamespace(body=b"a=1&b=2", headers=form_type),
        SimpleNamespace(body="b=2&a=1", headers=form_type),
    )
    BODY(SimpleNamespace(body=b"", headers={}), SimpleNamespace(body=None, headers={}))


def test_snapshot_diff_is_none_when_equal_and_a_unified_diff_otherwise() -> None:
    assert snapshot_diff({"a": [1, 2]}, {"a": [1, 2]}) is None
    diff = snapshot_diff({"a": 1, "b": 2}, {"b": 2, "a": 3}, expected_name="snap.json")
    assert diff is not None
    assert diff.splitlines()[:2] == ["--- snap.json", "+++ replay"]
    assert '-  "a": 1,' in diff and '+  "a": 3,' in diff


def test_public_names_are_the_curated_list_and_resolve() -> None:
    assert sorted(testing.__all__) == [
        "CassetteError",
        "Recording",
        "Replay",
        "ScriptRun",
        "cassette_path",
        "check_pack",
        "integration_section",
        "integration_table",
        "load_snapshot",
        "record_dryrun",
        "replay_cassette",
        "run_script_from_cassette",
        "snapshot_diff",
        "snapshot_path",
    ]
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    assert issubclass(testing.CassetteError, NangoScriptsError)
    assert testing.CassetteError.exit_code == 1
    with pytest.raises(AttributeError):
        _ = testing.nope  # type: ignore[attr-defined]


def test_paths_follow_the_project_layout(tmp_path: Any) -> None:
    assert testing.cassette_path(tmp_path, "github", "issues") == (
        tmp_path / "github" / "tests" / "cassettes" / "issues.yaml"
    )
    assert testing.snapshot_path(tmp_path, "github", "issues") == (
        tmp_path / "github" / "tests" / "snapshots" / "issues.json"
    )
