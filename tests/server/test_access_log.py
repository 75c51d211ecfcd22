"""The service's access line: one per request, in uvicorn's shape, with what may be a
secret in the request target masked (the proxy's credentials in the path, secret-named
query values, the secret key, what the caller sends the API)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from support.fakeapi import FakeApi
from support.server_harness import (
    API_KEY,
    SECRET,
    Harness,
    anonymous,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)
from uvicorn.logging import AccessFormatter

from nango_scripts.errors import NangoScriptsError
from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The access lines as ``serve`` writes them (uvicorn's access formatter)."""
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    return [
        formatter.format(record)
        for record in caplog.records
        if record.name == "nango_scripts.access"
    ]


@pytest.mark.anyio
async def test_each_request_is_one_line_with_its_secrets_masked(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nango_scripts.access")
    proxied = await harness.client.get(
        f"/proxy/bot{API_KEY}/hello",
        params={"name": "bob", "api_key": "query-key-1", "session": "query-session-2"},
        headers={**CONN, "Nango-Proxy-X-Custom": "header-value-3"},
    )
    assert proxied.status_code == 404  # the fake API's: no such route
    async with anonymous(harness) as nobody:
        assert (await nobody.get("/login", params={"key": SECRET})).status_code == 200
        assert (await nobody.get(f"/connections/{SECRET}")).status_code == 401
        assert (await nobody.get("/records%0AINFO:%20forged")).status_code == 401
    assert (await harness.client.get("/health")).status_code == 200

    lines = _lines(caplog)
    assert lines == [
        '127.0.0.1:123 - "GET /proxy/bot***/hello?name=bob&api_key=***&session=*** HTTP/1.1"'
        " 404 Not Found",
        '127.0.0.1:123 - "GET /login?key=*** HTTP/1.1" 200 OK',
        '127.0.0.1:123 - "GET /connections/*** HTTP/1.1" 401 Unauthorized',
        '127.0.0.1:123 - "GET /records\\nINFO: forged HTTP/1.1" 401 Unauthorized',
        '127.0.0.1:123 - "GET /health HTTP/1.1" 200 OK',
    ]
    for planted in (API_KEY, SECRET, "query-key-1", "query-session-2", "header-value-3"):
        assert not any(planted in line for line in lines), planted


@pytest.mark.anyio
async def test_errors_logged_about_a_request_are_masked_as_its_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure that quotes the secret key (a bug of ours, an error no route turned into
    an answer) reaches the service's log masked, traceback included."""
    app = harness.transport.app
    assert isinstance(app, FastAPI)

    def bug() -> None:
        raise RuntimeError(f"failing with {SECRET}")

    def unhandled() -> None:
        raise NangoScriptsError(f"not handled: {SECRET}")

    app.add_api_route("/test-bug", bug)
    app.add_api_route("/test-unhandled", unhandled)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {SECRET}"},
    ) as client:
        for path in ("/test-bug", "/test-unhandled"):
            answer = await client.get(path)
            assert answer.status_code == 500 and SECRET not in answer.text
    logged = [r for r in caplog.records if r.name == "nango_scripts.server"]
    text = "\n".join(r.getMessage() + str(r.exc_info or "") for r in logged)
    assert "failing with ***" in text and "Traceback" in text
    assert "not handled: ***" in text
    assert SECRET not in text


def test_serve_writes_the_masked_line_instead_of_uvicorns(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    env.update(make_project(tmp_path, fake_api) | {"NANGO_SECRET_KEY": SECRET})
    with ConnectionStore.open(load_settings(env["NANGO_SCRIPTS_PROJECT"], env)) as connections:
        connections.create("fake", "c1", {"type": "API_KEY", "apiKey": API_KEY})
    fake_api.route(f"/bot{API_KEY}/getMe", lambda request: (200, {}, {"ok": True}))
    port, log = free_port(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    process = serve(env, port, log)
    try:
        wait_healthy(url, process, log)
        proxied = httpx.get(
            f"{url}/proxy/bot{API_KEY}/getMe?api_key=query-key-1",
            headers={**CONN, "Authorization": f"Bearer {SECRET}"},
        )
        assert proxied.status_code == 200, proxied.text
        assert httpx.get(f"{url}/login?key={SECRET}").status_code == 200
    finally:
        stop(process, log)
    output = log.read_text()
    assert output.count("/proxy/bot") == 1, output  # ours only: uvicorn's own line is off
    assert "INFO:     127.0.0.1:" in output
    assert '"GET /proxy/bot***/getMe?api_key=*** HTTP/1.1" 200 OK' in output, output
    assert '"GET /login?key=*** HTTP/1.1" 200 OK' in output, output
    for planted in (API_KEY, SECRET, "query-key-1"):
        assert planted not in output, planted
