"""ApiClient: the credentials go only to the integration's host, endpoints stay under the
base URL, and a request HTTP cannot carry is refused before anything is sent, never
quoting a credential."""

from __future__ import annotations

from typing import Any

import pytest
from support.fakeapi import FakeApi, Received, Reply, json_reply

from nango_scripts.errors import CredentialsError, HttpError, InvalidRequestError
from nango_scripts.http import ApiClient

pytestmark = pytest.mark.anyio

KEY = {"type": "API_KEY", "apiKey": "k-s3cr3t"}


def elsewhere(api: FakeApi) -> str:
    """The same server under another host name: not the integration's host."""
    return api.url.replace("127.0.0.1", "localhost")


def key_provider(provider_for: Any, api: FakeApi, **fields: Any) -> Any:
    return provider_for(
        api,
        auth="api_key",
        api_key_header="X-Key",
        api_key_format="{api_key}",
        headers={"X-Static": "config-secret"},
        **fields,
    )


async def test_an_absolute_url_on_another_host_gets_no_credentials(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    with FakeApi() as other:
        other.route("/steal", json_reply({}))
        async with ApiClient(key_provider(provider_for, fake_api), KEY, log=spy.log) as client:
            await client.request("GET", elsewhere(other) + "/steal", headers={"X-Mine": "m"})
            await client.request("POST", elsewhere(other) + "/steal", json={"a": 1})
        for sent in other.requests:
            assert "x-key" not in sent.headers
            assert "x-static" not in sent.headers  # the integration's headers neither
        assert other.requests[0].headers["x-mine"] == "m"  # the script's own headers go
        # Said once per host, at info level: a presigned download is not a mistake.
        said = [m for _, m, _ in spy.logs if "without the connection's credentials" in m]
        assert len(said) == 1
        assert "only go to 127.0.0.1" in said[0]


async def test_an_api_key_in_the_query_stays_home_too(fake_api: FakeApi, provider_for: Any) -> None:
    with FakeApi() as other:
        other.route("/steal", json_reply({}))
        provider = provider_for(fake_api, auth="api_key", api_key_query="api_key")
        async with ApiClient(provider, KEY) as client:
            await client.request("GET", elsewhere(other) + "/steal", params={"q": "1"})
            await client.request("GET", other.url + "/steal")  # same host, another port
    assert other.requests[0].query == {"q": "1"}
    assert other.requests[1].query == {"api_key": "k-s3cr3t"}


async def test_a_redirect_to_another_host_drops_every_credential_header(
    fake_api: FakeApi, provider_for: Any
) -> None:
    with FakeApi() as other:
        other.route("/landed", json_reply({"landed": True}))
        fake_api.route("/v1/away", lambda _: (302, {"Location": elsewhere(other) + "/landed"}, ""))
        fake_api.route("/v1/near", lambda _: (302, {"Location": "/v1/home"}, ""))
        fake_api.route("/v1/home", json_reply({"home": True}))
        async with ApiClient(key_provider(provider_for, fake_api), KEY) as client:
            away = await client.request("GET", "/away")
            near = await client.request("GET", "/near")
    assert away.json() == {"landed": True}
    # httpx drops only Authorization when leaving the origin; X-Key is ours to drop.
    assert "x-key" not in other.requests[0].headers
    assert "x-static" not in other.requests[0].headers
    assert near.json() == {"home": True}
    assert fake_api.requests_to("/v1/home")[0].headers["x-key"] == "k-s3cr3t"


async def test_a_401_from_a_foreign_host_says_it_got_no_credentials(
    fake_api: FakeApi, provider_for: Any
) -> None:
    with FakeApi() as other:
        other.route("/private", json_reply({"message": "who are you"}, status=401))
        async with ApiClient(key_provider(provider_for, fake_api), KEY) as client:
            with pytest.raises(HttpError) as caught:
                await client.request("GET", elsewhere(other) + "/private")
    assert caught.value.hint == "This URL got no credentials: they only go to 127.0.0.1."


@pytest.mark.parametrize("endpoint", ["../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "a/../../x"])
async def test_an_endpoint_never_leaves_the_base_path(
    fake_api: FakeApi, provider_for: Any, endpoint: str
) -> None:
    fake_api.route("/etc/passwd", json_reply({"root": "x"}))
    async with ApiClient(key_provider(provider_for, fake_api), KEY) as client:
        with pytest.raises(InvalidRequestError, match="climb above the base URL's path"):
            await client.request("GET", endpoint)
        with pytest.raises(InvalidRequestError, match="climb above"):
            await client.request("GET", endpoint, base_url_override=fake_api.url + "/v1")
        with pytest.raises(InvalidRequestError, match="climb above"):
            client.paginate(endpoint, paginate={"type": "link", "link_rel_in_response_header": "n"})
    assert fake_api.requests == []


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ("http://127.0.0.1:99999", "port 99999 is not in 1..65535"),
        ("http://[::1", "Invalid port"),
        ("http://u:pw-s3cr3t@h:abc", "Invalid port: 'abc'"),
        ("ftp://files.example.com", "must start with http"),
    ],
)
async def test_an_unusable_base_url_override_is_refused_before_sending(
    fake_api: FakeApi, provider_for: Any, override: str, reason: str
) -> None:
    async with ApiClient(key_provider(provider_for, fake_api), KEY) as client:
        with pytest.raises(InvalidRequestError, match=reason) as caught:
            await client.request("GET", "/x", base_url_override=override)
    assert "base_url_override" in str(caught.value)
    assert "pw-s3cr3t" not in str(caught.value)


async def test_a_url_too_long_is_refused_before_sending(
    fake_api: FakeApi, provider_for: Any
) -> None:
    async with ApiClient(provider_for(fake_api), {}) as client:
        with pytest.raises(
            InvalidRequestError, match=r"the URL is 70,0\d\d characters long"
        ) as caught:
            await client.request("GET", "/" + "a" * 70_000)
        with pytest.raises(InvalidRequestError, match="not valid: URL component 'query' too long"):
            await client.request("GET", "/x", params={"q": "a" * 70_000})
    assert len(str(caught.value)) < 400
    assert fake_api.requests == []


async def test_credentials_that_would_break_a_header_are_refused_unquoted(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/me", json_reply({}))
    injected = {"type": "API_KEY", "apiKey": "k-s3cr3t\nX-Injected: 1"}
    async with ApiClient(key_provider(provider_for, fake_api), injected) as client:
        with pytest.raises(CredentialsError) as caught:
            await client.request("GET", "/me")
    assert "header X-Key holds a control character" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    assert "Injected" not in str(caught.value)
    assert fake_api.requests == []


async def test_headers_http_cannot_carry_are_refused_by_name_and_latin_1_travels(
    fake_api: FakeApi, provider_for: Any
) -> None:
    def echo(request: Received) -> Reply:
        return 200, {}, {"note": request.headers.get("x-note"), "body": request.body.decode()}

    fake_api.route("/v1/notes", echo)
    async with ApiClient(provider_for(fake_api), {}) as client:
        for bad in ("line\nbreak", "nul\x00", "euro €"):
            with pytest.raises(InvalidRequestError, match="header X-Note") as caught:
                await client.request("GET", "/notes", headers={"X-Note": bad})
            assert bad not in str(caught.value)
        latin = await client.request("GET", "/notes", headers={"X-Note": "caf\xe9"})
        framed = await client.request(
            "POST",
            "/notes",
            data="hello world",
            headers={"Content-Length": "1", "Transfer-Encoding": "chunked", "Host": "evil.io"},
        )
    assert latin.json()["note"] == "caf\xe9"
    assert framed.json()["body"] == "hello world"  # httpx framed the body itself
    assert fake_api.requests_to("/v1/notes")[-1].headers["host"].startswith("127.0.0.1:")
