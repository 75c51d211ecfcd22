"""Planted secrets never leave ``nango-scripts serve``: a real service (a subprocess)
whose scripts log their connection's tokens, send them in a request and fail with them
in the error, whose callers put secrets in proxy paths, query values and headers, and
whose webhook URL carries a token in its path; then every output is searched: the
service's real stdout and stderr (its access lines included), the webhooks a receiver
got (the failed run's error included), ``GET /logs`` with each operation,
``/sync/status``, the proxy's and the actions' error bodies, and the Activity page."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import httpx
from support.fakeapi import FakeApi, Received, Reply
from support.serve_process import start_serve, stop_serve
from support.waiting import eventually
from support.webhook_receiver import Receiver, free_port

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore

SECRET_KEY = "sk_planted_service_key_81f3"
ACCESS_TOKEN = "at_planted_access_token_5c2e"
REFRESH_TOKEN = "rt_planted_refresh_token_9d04"
API_KEY = "ak_planted_api_key_77ab"
HOOK_TOKEN = "hk_planted_webhook_path_token_3e9a"
"""The last segments of a Slack-style webhook URL (``/services/T000/B000/<token>``)."""
QUERY_TOKEN = "qt_planted_query_token_61b0"
SESSION = "ss_planted_session_value_2f7c"
CUSTOM_HEADER = "ch_planted_custom_header_8a1d"
CALLER_BEARER = "cb_planted_caller_bearer_40e5"
PLANTED = (
    SECRET_KEY,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    API_KEY,
    HOOK_TOKEN,
    QUERY_TOKEN,
    SESSION,
    CUSTOM_HEADER,
    CALLER_BEARER,
)

LEAKY = """
import os

from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Tick(BaseModel):
    id: str


@sync(models=[Tick], frequency="every hour", auto_start=False)
async def leaky(nango: NangoSync) -> None:
    connection = await nango.get_connection()
    secrets = dict(connection.credentials)
    secrets["service"] = os.environ.get("NANGO_SECRET_KEY", "")
    nango.log(f"the secrets are {secrets}", token=secrets.get("access_token"))
    await nango.batch_save([Tick(id="1")], Tick)
    await nango.get("/echo", params={"t": secrets.get("access_token") or secrets.get("apiKey")})
    raise RuntimeError(f"failing with {secrets}")
"""

LEAKY_ACTIONS = """
from nango_scripts import NangoAction, action


@action()
async def blurt(nango: NangoAction) -> None:
    connection = await nango.get_connection()
    raise RuntimeError(f"failing with {dict(connection.credentials)}")


@action()
async def echo_failure(nango: NangoAction) -> None:
    await nango.get("/refuse")
"""


def _refuse(request: Received) -> Reply:
    """An API that quotes what it was sent in its error: the key, the bearer token."""
    return 400, {}, {"error": f"refused {request.target} {request.headers}"}


def _project(root: Path, api_url: str, hook_url: str, dead_hook_url: str) -> None:
    for integration in ("oauthy", "keyed"):
        (root / integration / "syncs").mkdir(parents=True)
        (root / integration / "syncs" / "leaky.py").write_text(LEAKY)
        (root / integration / "actions").mkdir(parents=True)
        (root / integration / "actions" / "leaky_actions.py").write_text(LEAKY_ACTIONS)
    (root / "nango.toml").write_text(
        f'[integrations.oauthy]\nbase_url = "{api_url}"\nauth = "oauth2"\n'
        f'token_url = "{api_url}/token"\n\n'
        f'[integrations.keyed]\nbase_url = "{api_url}"\nauth = "api_key"\n'
        'api_key_query = "t"\n\n'
        f'[webhooks]\nurl = "{hook_url}"\nsecondary_url = "{dead_hook_url}"\n'
        "on_sync_error = true\non_sync_completion_always = true\nmax_attempts = 1\n"
    )


def _caller_requests(api: httpx.Client, dead_port: int) -> list[str]:
    """Proxy calls and actions with secrets in the path, the query and the headers; the
    error bodies the service answered."""
    keyed = {"Connection-Id": "c2", "Provider-Config-Key": "keyed"}
    oauthy = {"Connection-Id": "c1", "Provider-Config-Key": "oauthy"}
    caller = {
        "Nango-Proxy-X-Custom": CUSTOM_HEADER,
        "Nango-Proxy-Authorization": f"Bearer {CALLER_BEARER}",
    }
    target = f"/proxy/bot{API_KEY}/getMe?api_key={QUERY_TOKEN}&session={SESSION}"
    relayed = api.get(target, headers=keyed | caller)
    assert relayed.status_code == 200, relayed.text
    errors: list[str] = []
    unreachable = api.get(
        target, headers=keyed | caller | {"Base-Url-Override": f"http://127.0.0.1:{dead_port}"}
    )
    assert unreachable.status_code == 502, unreachable.text
    errors.append(unreachable.text)
    for headers in (keyed, oauthy):
        for name, status in (("blurt", 500), ("echo_failure", 424)):
            failed = api.post("/action/trigger", json={"action_name": name}, headers=headers)
            assert failed.status_code == status, failed.text
            errors.append(failed.text)
    return errors


def test_no_planted_secret_in_any_output_of_serve(tmp_path: Path, fake_api: FakeApi) -> None:
    root = tmp_path / "proj"
    fake_api.route("/echo", lambda request: (200, {}, {"ok": True}))
    fake_api.route(f"/bot{API_KEY}/getMe", lambda request: (200, {}, {"ok": True}))
    fake_api.route("/refuse", _refuse)
    dead_port = free_port()  # nothing listens there
    with Receiver() as receiver:
        hook_url = receiver.url(f"/services/T000/B000/{HOOK_TOKEN}")
        _project(root, fake_api.url, hook_url, f"http://127.0.0.1:{dead_port}/s/{HOOK_TOKEN}")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("NANGO_", "NANGO_SCRIPTS_"))
        } | {
            "NANGO_SCRIPTS_PROJECT": str(root),
            "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
            "NANGO_SECRET_KEY": SECRET_KEY,
        }
        settings = load_settings(root, env)
        with ConnectionStore.open(settings) as connections:
            connections.create(
                "oauthy",
                "c1",
                {"type": "OAUTH2", "access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN},
            )
            connections.create("keyed", "c2", {"type": "API_KEY", "apiKey": API_KEY})
        stdout, stderr = tmp_path / "serve.out", tmp_path / "serve.err"
        process, port = start_serve(env, stdout, timeout_s=30, stderr_log=stderr)
        base = f"http://127.0.0.1:{port}"
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {SECRET_KEY}"})
        try:
            for integration, connection in (("oauthy", "c1"), ("keyed", "c2")):
                answer = api.post(
                    "/sync/trigger",
                    json={
                        "syncs": ["leaky"],
                        "provider_config_key": integration,
                        "connection_id": connection,
                    },
                )
                assert answer.status_code == 200, answer.text
            receiver.wait_for(2, timeout_s=30)  # one failure webhook per run
            error_bodies = _caller_requests(api, dead_port)

            def all_recorded() -> bool:
                # the webhook can arrive before the run's operation is written as ended
                operations[:] = api.get("/logs", params={"limit": 500}).json()["operations"]
                runs = [o for o in operations if o["type"] == "sync"]
                hooks = [o for o in operations if o["type"] == "webhook"]
                return (
                    len(runs) == 2
                    and all(o["state"] == "failed" for o in runs)
                    and len(hooks) == 4  # each run's to the receiver and to the dead URL
                )

            operations: list[dict[str, Any]] = []
            eventually(all_recorded, "both runs and their webhooks to be recorded", seconds=30)
            details = [api.get(f"/logs/{o['id']}").text for o in operations]
            statuses = [
                api.get(
                    "/sync/status",
                    params={"syncs": "leaky", "provider_config_key": i, "connection_id": c},
                ).text
                for i, c in (("oauthy", "c1"), ("keyed", "c2"))
            ]

            page = httpx.Client(base_url=base, follow_redirects=True)
            assert page.get("/login", params={"key": SECRET_KEY}).status_code == 200
            page.post("/login", data={"key": SECRET_KEY})
            pages = [page.get(path).text for path in ("/", "/scripts-view")]
            pages += [page.get(f"/activity/{o['id']}").text for o in operations]
            assert any("failing with" in text for text in pages)  # the error is shown
            page.close()
        finally:
            api.close()
            stop_serve(process)

        bodies = [d.body.decode() for d in receiver.all()]
        failures = [d.json() for d in receiver.all() if d.json().get("success") is False]
    assert len(failures) == 2 and all("failing with" in f["error"]["description"] for f in failures)
    assert any("the secrets are" in text for text in details)  # the log line is there
    # the requests did carry the secrets to the API: there was something to leak
    sent = " ".join(r.target + str(r.headers) for r in fake_api.requests)
    for secret in (ACCESS_TOKEN, API_KEY, QUERY_TOKEN, SESSION, CUSTOM_HEADER, CALLER_BEARER):
        assert secret in sent, (secret, sent)
    # the webhooks went to the URL with the token, and their operations are shown
    assert all(HOOK_TOKEN in d.path for d in receiver.all())
    assert any("/services/" in text for text in details)
    out, err = stdout.read_text(errors="replace"), stderr.read_text(errors="replace")
    # serve writes a line per request: each of these was there to be leaked
    assert "/proxy/bot" in out and "/login?key=" in out and "/action/trigger" in out, out
    outputs = {
        "serve's stdout": out,
        "serve's stderr": err,
        "webhooks": "\n".join(bodies),
        "/logs": "\n".join(details),
        "/sync/status": "\n".join(statuses),
        "error bodies": "\n".join(error_bodies),
        "pages": "\n".join(pages),
    }
    leaks = [
        f"{secret} found in {where}"
        for where, text in outputs.items()
        for secret in PLANTED
        if secret in text
    ]
    assert not leaks, "\n".join(leaks)
