"""Planted secrets never leave ``nango-scripts serve``: a real service whose scripts log
their connection's tokens, send them in a request and fail with them in the error; then
every output is searched: the webhooks a receiver got (the failed run's error included),
the service's own log (stdout and stderr), ``GET /logs`` with each operation,
``/sync/status`` and the Activity page."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import httpx
from fakeapi import FakeApi
from serve_process import start_serve, stop_serve, until
from webhook_receiver import Receiver

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore

SECRET_KEY = "sk_planted_service_key_81f3"
ACCESS_TOKEN = "at_planted_access_token_5c2e"
REFRESH_TOKEN = "rt_planted_refresh_token_9d04"
API_KEY = "ak_planted_api_key_77ab"
PLANTED = (SECRET_KEY, ACCESS_TOKEN, REFRESH_TOKEN, API_KEY)

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


def test_no_planted_secret_in_webhooks_logs_or_pages(tmp_path: Path, fake_api: FakeApi) -> None:
    root = tmp_path / "proj"
    (root / "oauthy" / "syncs").mkdir(parents=True)
    (root / "oauthy" / "syncs" / "leaky.py").write_text(LEAKY)
    (root / "keyed" / "syncs").mkdir(parents=True)
    (root / "keyed" / "syncs" / "leaky.py").write_text(LEAKY)
    fake_api.route("/echo", lambda request: (200, {}, {"ok": True}))
    api_url = fake_api.url
    with Receiver() as receiver:
        (root / "nango.toml").write_text(
            f'[integrations.oauthy]\nbase_url = "{api_url}"\nauth = "oauth2"\n'
            f'token_url = "{api_url}/token"\n\n'
            f'[integrations.keyed]\nbase_url = "{api_url}"\nauth = "api_key"\n'
            'api_key_query = "t"\n\n'
            f'[webhooks]\nurl = "{receiver.url("/hook")}"\non_sync_error = true\n'
            "on_sync_completion_always = true\n"
        )
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
        log = tmp_path / "serve.log"
        process, port = start_serve(env, log, timeout_s=30)
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

            def both_runs_failed() -> bool:
                # the webhook can arrive before the run's operation is written as ended
                operations[:] = api.get("/logs", params={"limit": 500}).json()["operations"]
                runs = [o for o in operations if o["type"] == "sync"]
                return len(runs) == 2 and all(o["state"] == "failed" for o in runs)

            operations: list[dict[str, Any]] = []
            until(both_runs_failed, "both runs to be recorded as failed", 30)
            details = [api.get(f"/logs/{o['id']}").text for o in operations]
            statuses = [
                api.get(
                    "/sync/status",
                    params={"syncs": "leaky", "provider_config_key": i, "connection_id": c},
                ).text
                for i, c in (("oauthy", "c1"), ("keyed", "c2"))
            ]

            page = httpx.Client(base_url=base, follow_redirects=True)
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
    sent = " ".join(r.path + str(r.query) + str(r.headers) for r in fake_api.requests_to("/echo"))
    assert ACCESS_TOKEN in sent and API_KEY in sent, sent
    outputs = {
        "webhooks": "\n".join(bodies),
        "serve log": log.read_text(errors="replace"),
        "/logs": "\n".join(details),
        "/sync/status": "\n".join(statuses),
        "pages": "\n".join(pages),
    }
    for where, text in outputs.items():
        for secret in PLANTED:
            assert secret not in text, f"{secret} found in {where}"
