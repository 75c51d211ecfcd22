"""The OAuth facts of the catalogue, the pure OAuth2 flow functions and the Connect forms.

Also keeps the "OAuth and Connect" block of docs/configuration.md in step; to regenerate
it after editing catalogue.json: ``.venv/bin/python tests/providers/test_oauth.py --write``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from nango_scripts.errors import AuthRefreshError, ConfigError
from nango_scripts.providers import (
    ConnectForm,
    OAuthSpec,
    ProviderConfig,
    authorization_url,
    connect_form,
    load_catalogue,
    new_pkce,
    read_token_response,
    refresh_request,
    resolve_integration,
    token_request,
)
from nango_scripts.providers._loader import parse_catalogue

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
OAUTH2 = sorted(name for name, p in load_catalogue().items() if p.auth == "oauth2")
FORMS = sorted(name for name, p in load_catalogue().items() if p.auth in ("api_key", "basic"))


def _provider(**oauth: Any) -> ProviderConfig:
    spec = OAuthSpec(authorization_url="https://auth.acme.test/authorize", **oauth)
    return ProviderConfig(
        name="acme",
        base_url="https://api.acme.test",
        auth="oauth2",
        token_url="https://auth.acme.test/token",
        oauth=spec,
    )


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# --- the catalogue's facts --------------------------------------------------------------


@pytest.mark.parametrize("name", OAUTH2)
def test_every_oauth2_provider_has_its_oauth_facts(name: str) -> None:
    provider = load_catalogue()[name]
    assert provider.oauth is not None
    assert provider.oauth.authorization_url.startswith("https://")
    assert provider.token_url is not None


@pytest.mark.parametrize("name", FORMS)
def test_every_api_key_and_basic_provider_has_a_form_with_a_check(name: str) -> None:
    form = load_catalogue()[name].form
    assert form is not None and form.verification is not None
    assert form.verification.path.startswith("/")
    assert all(f.label and f.help for f in form.fields)
    assert any(f.secret for f in form.fields)


def test_well_known_oauth_facts() -> None:
    catalogue = load_catalogue()
    slack = catalogue["slack"].oauth
    assert slack is not None
    assert (slack.scope_separator, slack.pkce) == (",", False)
    assert slack.access_token_paths == ("access_token", "authed_user.access_token")
    assert "team.id" in slack.connection_config
    google = catalogue["google-calendar"].oauth
    assert google is not None
    assert google.authorization_params == {"access_type": "offline", "prompt": "consent"}
    salesforce = catalogue["salesforce"].oauth
    assert salesforce is not None and salesforce.connection_config == ("instance_url",)
    assert salesforce.default_scopes == ("offline_access",)
    assert catalogue["github"].oauth == OAuthSpec(
        authorization_url="https://github.com/login/oauth/authorize"
    )
    notion = catalogue["notion"]
    assert notion.oauth is not None and notion.oauth.token_format == "json"
    stripe = catalogue["stripe"].form
    assert stripe is not None and stripe.verification is not None
    assert (stripe.fields[0].name, stripe.fields[0].label) == ("apiKey", "Secret key")
    assert (stripe.verification.method, stripe.verification.path) == ("GET", "/v1/balance")
    jira = catalogue["jira-basic"].form
    assert jira is not None
    assert [(f.name, f.label, f.secret) for f in jira.fields] == [
        ("username", "Email", False),
        ("password", "API token", True),
    ]


# --- nango.toml overrides --------------------------------------------------------------


def test_oauth_urls_can_point_at_a_local_server() -> None:
    config = resolve_integration(
        "gh",
        {
            "provider": "github",
            "token_url": "http://127.0.0.1:9000/token",
            "oauth": {"authorization_url": "http://127.0.0.1:9000/authorize", "pkce": False},
        },
    )
    assert config.token_url == "http://127.0.0.1:9000/token"
    assert config.oauth is not None
    assert config.oauth.authorization_url == "http://127.0.0.1:9000/authorize"
    assert config.oauth.pkce is False
    assert load_catalogue()["github"].oauth.pkce is True  # type: ignore[union-attr]
    google = resolve_integration(
        "cal", {"provider": "google-calendar", "oauth": {"authorization_url": "http://x.test/a"}}
    )
    assert google.oauth is not None  # the other facts are kept
    assert google.oauth.authorization_params == {"access_type": "offline", "prompt": "consent"}


def test_settings_read_the_oauth_override_from_nango_toml(tmp_path: Path) -> None:
    from nango_scripts.settings import load_settings

    (tmp_path / "nango.toml").write_text(
        '[integrations.gh]\nprovider = "github"\ntoken_url = "http://127.0.0.1:9/token"\n'
        'oauth = { authorization_url = "http://127.0.0.1:9/authorize", '
        'default_scopes = ["repo"] }\n'
    )
    settings = load_settings(tmp_path, env={})
    oauth = settings.integrations["gh"].oauth
    assert oauth is not None
    assert (oauth.authorization_url, oauth.default_scopes) == (
        "http://127.0.0.1:9/authorize",
        ("repo",),
    )


def test_oauth_placeholders_are_filled_from_base_url_params() -> None:
    config = resolve_integration(
        "support", {"provider": "zendesk", "base_url_params": {"subdomain": "acme"}}
    )
    assert config.oauth is not None
    assert config.oauth.authorization_url == "https://acme.zendesk.com/oauth/authorizations/new"


def test_a_custom_provider_may_define_oauth() -> None:
    config = resolve_integration(
        "acme",
        {
            "base_url": "https://api.acme.test",
            "auth": "oauth2",
            "token_url": "https://acme.test/token",
            "oauth": {
                "authorization_url": "https://acme.test/authorize",
                "scope_separator": ",",
                "authorization_params": {"audience": "api"},
            },
        },
    )
    assert config.oauth == OAuthSpec(
        authorization_url="https://acme.test/authorize",
        scope_separator=",",
        authorization_params={"audience": "api"},
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"oauth": {"scope_separator": ";"}}, "scope_separator = ';' is not one of"),
        ({"oauth": {"authorization_url": "ftp://x"}}, "oauth.authorization_url 'ftp://x'"),
        ({"oauth": {"pkce": "yes"}}, "pkce must be true or false"),
        ({"oauth": {"default_scopes": "repo"}}, "default_scopes must be a list of strings"),
        ({"oauth": {"scopes": ["repo"]}}, "unknown key 'scopes'"),
        ({"oauth": {"access_token_paths": []}}, "at least one path"),
        ({"auth": "basic", "form": {"fields": [{"name": "apiKey", "label": "K"}]}}, "'username'"),
        ({"form": {"fields": []}}, "non-empty list"),
        ({"form": {"fields": [{"name": "apiKey", "label": "K", "hint": ""}]}}, "'hint'"),
        (
            {"form": {"fields": [{"name": "apiKey", "label": "K"}], "verification": {"path": "x"}}},
            "path starting with /",
        ),
    ],
)
def test_bad_oauth_or_form_tables_are_config_errors(fields: dict[str, Any], message: str) -> None:
    entry = {"base_url": "https://api.acme.test", "auth": "api_key", **fields}
    if "oauth" in fields:
        entry.update(auth="oauth2", token_url="https://acme.test/token")
        entry["oauth"] = {"authorization_url": "https://acme.test/a", **fields["oauth"]}
    with pytest.raises(ConfigError, match=message):
        parse_catalogue({"providers": {"acme": entry}})


def test_an_oauth_table_needs_an_authorization_url_unless_inherited() -> None:
    with pytest.raises(ConfigError, match="needs authorization_url"):
        resolve_integration(
            "acme",
            {
                "base_url": "https://api.acme.test",
                "auth": "oauth2",
                "token_url": "https://acme.test/token",
                "oauth": {"pkce": False},
            },
        )


# --- authorization URL -----------------------------------------------------------------


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = new_pkce()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert new_pkce()[0] != verifier


def test_authorization_url_carries_the_flow_parameters() -> None:
    provider = load_catalogue()["google-calendar"]
    url = authorization_url(
        provider,
        client_id="cid",
        redirect_uri="https://app.test/oauth/callback",
        scopes=["a", "b c"],
        state="st",
        code_challenge="ch",
    )
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert _query(url) == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": "https://app.test/oauth/callback",
        "scope": "a b c",
        "state": "st",
        "access_type": "offline",
        "prompt": "consent",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
    }
    assert "scope=a%20b%20c" in url  # spaces as %20, as the providers expect


def test_authorization_url_defaults_separators_and_extra() -> None:
    provider = _provider(
        default_scopes=("x", "y"),
        scope_separator=",",
        authorization_params={"prompt": "consent"},
    )
    url = authorization_url(
        provider,
        client_id="c",
        redirect_uri="r",
        scopes=None,
        state="s",
        extra={"prompt": None, "user_scope": "chat:write"},
    )
    query = _query(url)
    assert query["scope"] == "x,y"
    assert "prompt" not in query and query["user_scope"] == "chat:write"
    assert "code_challenge" not in query
    no_scopes = authorization_url(provider, client_id="c", redirect_uri="r", scopes=[], state="s")
    assert "scope" not in _query(no_scopes)


def test_authorization_url_keeps_the_urls_own_query_but_not_a_flow_parameter() -> None:
    spec = OAuthSpec(authorization_url="https://auth.acme.test/authorize?tenant=t1&state=old")
    provider = ProviderConfig(name="acme", base_url="https://a.test", auth="oauth2", oauth=spec)
    url = authorization_url(provider, client_id="c", redirect_uri="r", scopes=[], state="new")
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["t1"] and query["state"] == ["new"]


def test_authorization_url_without_oauth_facts_says_what_to_set() -> None:
    provider = ProviderConfig(name="acme", base_url="https://a.test", auth="oauth2")
    with pytest.raises(ConfigError, match="no OAuth authorization URL") as caught:
        authorization_url(provider, client_id="c", redirect_uri="r", scopes=[], state="s")
    assert "oauth = { authorization_url" in str(caught.value)


def test_an_unfilled_placeholder_is_refused_before_any_request() -> None:
    zendesk = load_catalogue()["zendesk"]
    with pytest.raises(ConfigError, match=r"\{subdomain\}"):
        authorization_url(zendesk, client_id="c", redirect_uri="r", scopes=[], state="s")
    with pytest.raises(ConfigError, match=r"token_url .*\{subdomain\}"):
        refresh_request(zendesk, refresh_token="r", client_id="c", client_secret="s")


# --- token requests --------------------------------------------------------------------


def test_code_exchange_sends_the_client_in_the_body() -> None:
    provider = _provider(token_params={"audience": "api", "grant_type": "ignored"})
    url, form, headers = token_request(
        provider,
        code="the-code",
        redirect_uri="https://app.test/cb",
        client_id="cid",
        client_secret="sec",
        code_verifier="ver",
    )
    assert url == "https://auth.acme.test/token"
    assert dict(form) == {
        "audience": "api",
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://app.test/cb",
        "code_verifier": "ver",
        "client_id": "cid",
        "client_secret": "sec",
    }
    assert headers["Accept"] == "application/json"
    assert "Authorization" not in headers


def test_basic_token_auth_sends_the_client_as_http_basic() -> None:
    airtable = load_catalogue()["airtable"]
    request = token_request(
        airtable, code="c", redirect_uri="r", client_id="id", client_secret="s:x"
    )
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"id:s:x").decode()
    assert "client_secret" not in request.form and "code_verifier" not in request.form
    assert request.content == b"grant_type=authorization_code&code=c&redirect_uri=r"


def test_refresh_request_uses_the_refresh_grant_and_token_params() -> None:
    zendesk = resolve_integration(
        "support", {"provider": "zendesk", "base_url_params": {"subdomain": "acme"}}
    )
    request = refresh_request(zendesk, refresh_token="rt", client_id="c", client_secret="s")
    assert request.url == "https://acme.zendesk.com/oauth/tokens"
    assert dict(request.form) == {
        "expires_in": "1800",
        "grant_type": "refresh_token",
        "refresh_token": "rt",
        "client_id": "c",
        "client_secret": "s",
    }


def test_a_json_token_endpoint_gets_a_json_body() -> None:
    request = token_request(
        load_catalogue()["notion"], code="c", redirect_uri="r", client_id="i", client_secret="s"
    )
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": "r",
    }


# --- reading the answer ----------------------------------------------------------------


def test_a_standard_answer_is_read() -> None:
    body = {
        "access_token": "AT-4711",
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": "RT-4712",
        "scope": "repo,gist user",
    }
    tokens = read_token_response(_provider(), body, NOW)
    assert tokens.access_token == "AT-4711" and tokens.refresh_token == "RT-4712"
    assert tokens.expires_at == NOW + timedelta(hours=1)
    assert tokens.scopes == ("repo", "gist", "user")
    assert tokens.raw == body
    assert tokens.credentials() == {
        "type": "OAUTH2",
        "access_token": "AT-4711",
        "refresh_token": "RT-4712",
        "expires_at": "2030-01-02T04:04:05Z",
        "raw": body,
    }
    assert "4711" not in repr(tokens) and "4712" not in repr(tokens)


def test_no_expiry_and_no_refresh_token_are_none() -> None:
    tokens = read_token_response(_provider(), {"access_token": "at", "expires_in": ""}, NOW)
    assert (tokens.refresh_token, tokens.expires_at, tokens.scopes) == (None, None, ())
    assert set(tokens.credentials()) == {"type", "access_token", "raw"}
    at = read_token_response(_provider(), {"access_token": "a", "expires_at": 1893456000}, NOW)
    assert at.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    iso = read_token_response(_provider(), {"access_token": "a", "expires_at": "2030-01-01"}, NOW)
    assert iso.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    text = read_token_response(_provider(), {"access_token": "a", "expires_in": "60"}, NOW)
    assert text.expires_at == NOW + timedelta(seconds=60)


def test_slack_bot_and_user_tokens() -> None:
    slack = load_catalogue()["slack"]
    bot = {
        "ok": True,
        "access_token": "xoxb-1",
        "scope": "channels:read,chat:write",
        "bot_user_id": "U0B",
        "team": {"id": "T1", "name": "Acme"},
        "incoming_webhook": {"url": "https://hooks.slack.test/x", "channel": "#general"},
        "authed_user": {"id": "U1", "access_token": "xoxp-1", "scope": "search:read"},
    }
    tokens = read_token_response(slack, bot, NOW)
    assert tokens.access_token == "xoxb-1"
    assert tokens.scopes == ("channels:read", "chat:write")
    assert tokens.connection_config == {
        "incoming_webhook.url": "https://hooks.slack.test/x",
        "incoming_webhook.channel": "#general",
        "bot_user_id": "U0B",
        "team.id": "T1",
    }
    user_only = {
        "ok": True,
        "team": {"id": "T1"},
        "authed_user": {
            "id": "U1",
            "access_token": "xoxp-1",
            "refresh_token": "xoxe-1",
            "expires_in": 43200,
            "scope": "search:read",
        },
    }
    tokens = read_token_response(slack, user_only, NOW)
    assert (tokens.access_token, tokens.refresh_token) == ("xoxp-1", "xoxe-1")
    assert tokens.expires_at == NOW + timedelta(hours=12)
    assert tokens.scopes == ("search:read",)


def test_salesforce_instance_url_becomes_connection_config() -> None:
    body = {"access_token": "at", "instance_url": "https://acme.my.salesforce.com", "id": 5}
    tokens = read_token_response(load_catalogue()["salesforce"], body, NOW)
    assert tokens.connection_config == {"instance_url": "https://acme.my.salesforce.com"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"error": "invalid_grant", "error_description": "Bad code"},
            "answered error 'invalid_grant': Bad code",
        ),
        ({"ok": False, "error": "invalid_code"}, "answered error 'invalid_code'"),
        ({"ok": False, "access_token": "at"}, "answered error 'ok: false'"),
        ({"token_type": "bearer"}, r"no access token \(looked at access_token; keys: token_type"),
        ({"access_token": ""}, "no access token"),
        ({"access_token": "at", "expires_in": "soon"}, "expires_in is not a number"),
        ({"access_token": "at", "refresh_token": 5}, "refresh_token beside access_token"),
        ({"access_token": "at", "expires_at": "tomorrow"}, "expires_at is neither"),
    ],
)
def test_a_bad_answer_names_what_is_wrong(body: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthRefreshError, match=message) as caught:
        read_token_response(_provider(), body, NOW)
    assert "provider 'acme'" in str(caught.value)
    assert caught.value.url == "https://auth.acme.test/token"


def test_an_error_never_shows_a_token() -> None:
    body = {"refresh_token": "RT-4711", "id_token": "ID-4712", "authed_user": {"id": "U1"}}
    with pytest.raises(AuthRefreshError) as caught:
        read_token_response(load_catalogue()["slack"], body, NOW)
    assert "4711" not in str(caught.value) + caught.value.body
    assert "4712" not in str(caught.value) + caught.value.body
    assert "authed_user.access_token" in str(caught.value)


# --- Connect forms ---------------------------------------------------------------------


def test_connect_form_is_the_providers_or_the_modes_default() -> None:
    catalogue = load_catalogue()
    assert connect_form(catalogue["stripe"]) is catalogue["stripe"].form
    assert connect_form(catalogue["github"]) is None
    linear_key = resolve_integration("lin", {"provider": "linear", "auth": "api_key"})
    form = connect_form(linear_key)
    assert isinstance(form, ConnectForm)
    assert [(f.name, f.secret) for f in form.fields] == [("apiKey", True)]
    cc = ProviderConfig(name="m2m", base_url="https://a.test", auth="oauth2_cc", token_url="x")
    assert [f.name for f in connect_form(cc).fields] == ["client_id", "client_secret"]  # type: ignore[union-attr]


def test_switching_auth_mode_drops_a_form_that_no_longer_fits() -> None:
    jira = resolve_integration(
        "jira", {"provider": "jira-basic", "auth": "api_key", "base_url_params": {"subdomain": "a"}}
    )
    assert jira.form is None
    assert [f.name for f in connect_form(jira).fields] == ["apiKey"]  # type: ignore[union-attr]


# --- the docs block --------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
START = "<!-- oauth:start (generated by tests/providers/test_oauth.py) -->"
END = "<!-- oauth:end -->"


def _code(items: Any) -> str:
    return ", ".join(f"`{i}`" for i in items)


def render() -> str:
    catalogue = load_catalogue()
    lines = [
        START,
        "| provider | authorization_url | default scopes | PKCE | authorization params | "
        "token response |",
        "|---|---|---|---|---|---|",
    ]
    for name in OAUTH2:
        spec = catalogue[name].oauth
        assert spec is not None
        params = "<br>".join(f"`{k}={v}`" for k, v in spec.authorization_params.items())
        reading = []
        if spec.access_token_paths != ("access_token",):
            reading.append("token at " + _code(spec.access_token_paths))
        if spec.connection_config:
            reading.append("config " + _code(spec.connection_config))
        if spec.token_params:
            reading.append("sends " + _code(f"{k}={v}" for k, v in spec.token_params.items()))
        if spec.token_format == "json":
            reading.append("JSON body")
        separator = " (`,`)" if spec.scope_separator == "," else ""
        cells = [
            name,
            f"`{spec.authorization_url}`",
            (_code(spec.default_scopes) or "none") + separator,
            "yes" if spec.pkce else "no",
            params,
            "; ".join(reading),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| provider | Connect form | verification |", "|---|---|---|"]
    for name in FORMS:
        form = catalogue[name].form
        assert form is not None and form.verification is not None
        shown = ", ".join(
            f"`{f.name}` “{f.label}”" + (" (secret)" if f.secret else "") for f in form.fields
        )
        check = f"`{form.verification.method} {form.verification.path}`"
        lines.append(f"| {name} | {shown} | {check} |")
    lines.append(END)
    return "\n".join(lines)


def _current_block(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def test_docs_oauth_block_matches_the_catalogue() -> None:
    assert _current_block(DOC.read_text("utf-8")) == render(), (
        "docs/configuration.md is out of date: run .venv/bin/python tests/providers/test_oauth.py --write"
    )


if __name__ == "__main__":
    if "--write" in sys.argv:
        text = DOC.read_text("utf-8")
        DOC.write_text(text.replace(_current_block(text), render()), "utf-8")
    else:
        print(render())
