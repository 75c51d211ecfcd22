"""End to end with ``nango-scripts serve``: a template enabled through the API syncs every
connection of its integration (records, a webhook per run, runs in /logs), the state
survives a restart, and once disabled nothing runs while the records stay.

GitHub is imitated on 127.0.0.1 from the pack's own fixture of ``repositories``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.imitation import Imitation, load_fixture
from support.serve_process import CONSOLE_SCRIPT, start_serve, stop_serve
from support.waiting import eventually
from support.webhook_receiver import Receiver

PACK = Path(__file__).resolve().parents[2] / "templates"
SECRET = "sk_test_templates_serve_0123456789"
CONNECTIONS = ("acme", "globex")

pytestmark = pytest.mark.slow


@pytest.fixture
def github() -> Iterator[Imitation]:
    with Imitation(load_fixture(PACK / "github/tests/fixtures/repositories.json")) as api:
        yield api


class Api:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.headers = {"Authorization": f"Bearer {SECRET}"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def records(self, connection: str) -> list[dict[str, Any]]:
        response = self.call(
            "GET",
            "/records",
            params={"model": "Repository"},
            headers={"Connection-Id": connection, "Provider-Config-Key": "github"},
        )
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()["records"]
        return records

    def runs(self) -> list[dict[str, Any]]:
        response = self.call("GET", "/logs", params={"type": "sync", "limit": 100})
        assert response.status_code == 200, response.text
        return [op for op in response.json()["operations"] if op["script"] == "repositories"]


def test_a_template_enabled_through_the_api_syncs_every_connection(
    tmp_path: Path, github: Imitation
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with Receiver() as receiver:
        (project / "nango.toml").write_text(
            f'[integrations.github]\nprovider = "github"\nbase_url = "{github.base_url}"\n\n'
            f'[webhooks]\nurl = "{receiver.url()}"\n'
        )
        env = {
            "PATH": str(Path(sys.executable).parent),
            "NANGO_SCRIPTS_PROJECT": str(project),
            "NANGO_SECRET_KEY": SECRET,
            "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/nango.db",
        }
        log = tmp_path / "serve.log"
        process, port = start_serve(env, log)
        try:
            api = Api(port)
            for connection in CONNECTIONS:
                created = api.call(
                    "POST",
                    "/connections",
                    json={
                        "provider_config_key": "github",
                        "connection_id": connection,
                        "credentials": {"type": "OAUTH2", "access_token": f"token-{connection}"},
                    },
                )
                assert created.status_code in (200, 201), created.text
            paths = api.call("GET", "/openapi.json").json()["paths"]
            assert {
                "/templates",
                "/integrations/{key}/templates",
                "/integrations/{key}/templates/enable",
                "/integrations/{key}/templates/disable",
            } <= set(paths)
            listed = api.call("GET", "/integrations/github/templates").json()
            names = {t["name"]: t for t in listed["data"]}
            assert {"issues", "pull-requests", "repositories", "create-issue"} <= set(names)
            assert not names["repositories"]["enabled"]
            assert api.runs() == []

            # Refused, naming what exists; nothing enabled half-way.
            wrong = api.call(
                "POST",
                "/integrations/github/templates/enable",
                json={"names": ["repositories", "tickets"]},
            )
            assert wrong.status_code == 400, wrong.text
            message = wrong.json()["error"]["message"]
            assert "zendesk" in message and "repositories" in message
            unknown = api.call(
                "POST", "/integrations/nope/templates/enable", json={"names": ["issues"]}
            )
            assert unknown.status_code == 404 and "github" in unknown.json()["error"]["message"]
            assert not any(
                t["enabled"]
                for t in api.call("GET", "/integrations/github/templates").json()["data"]
            )

            enabled = api.call(
                "POST", "/integrations/github/templates/enable", json={"names": ["repositories"]}
            )
            assert enabled.status_code == 200, enabled.text
            row = next(t for t in enabled.json()["data"] if t["name"] == "repositories")
            assert row["enabled"] and row["source"] == "database"

            expected = {str(r["id"]) for p in _pages(github) for r in p}
            for connection in CONNECTIONS:
                eventually(
                    lambda c=connection: {r["id"] for r in api.records(c)} == expected,
                    f"the records of {connection}",
                    seconds=30,
                )
            eventually(lambda: len(api.runs()) >= 2, "two runs in /logs")
            runs = api.runs()
            assert {r["connection_id"] for r in runs} == set(CONNECTIONS)
            assert all(r["state"] == "success" for r in runs)
            eventually(lambda: len(receiver.deliveries) >= 2, "a webhook per run")
            payloads = [d.json() for d in receiver.deliveries]
            assert {p["connectionId"] for p in payloads} == set(CONNECTIONS)
            assert {(p["syncName"], p["model"], p["success"]) for p in payloads} == {
                ("repositories", "Repository", True)
            }
            assert all(p["responseResults"]["added"] == len(expected) for p in payloads)
            config = api.call("GET", "/scripts/config").json()
            github_config = next(i for i in config if i["providerConfigKey"] == "github")
            assert [s["name"] for s in github_config["syncs"]] == ["repositories"]
            status = api.call(
                "GET",
                "/sync/status",
                params={
                    "syncs": "repositories",
                    "provider_config_key": "github",
                    "connection_id": "acme",
                },
            )
            assert status.status_code == 200, status.text

            # An action template is triggered like a project action once enabled.
            trigger = {
                "action_name": "create-issue",
                "input": {"owner": "acme", "repo": "app", "title": "Bug"},
            }
            headers = {"Connection-Id": "acme", "Provider-Config-Key": "github"}
            before = api.call("POST", "/action/trigger", json=trigger, headers=headers)
            assert before.status_code == 404 and "not found" in before.text, before.text
            api.call(
                "POST", "/integrations/github/templates/enable", json={"names": ["create-issue"]}
            )
            after = api.call("POST", "/action/trigger", json=trigger, headers=headers)
            # The imitation has no answer for it: the action ran and met GitHub's 404.
            assert after.status_code not in (200, 404) or "create-issue" not in after.text, (
                after.text
            )
            assert "/repos/acme/app/issues" in after.text, after.text
            print("AFTER", after.status_code, after.text, "BEFORE", before.text)
        finally:
            stop_serve(process)

        # A restart keeps the state: still enabled, still scheduled.
        process, port = start_serve(env, log)
        try:
            api = Api(port)
            rows = api.call("GET", "/integrations/github/templates").json()["data"]
            assert next(t for t in rows if t["name"] == "repositories")["enabled"]
            triggered = api.call(
                "POST",
                "/sync/trigger",
                json={"syncs": ["repositories"], "provider_config_key": "github"},
            )
            assert triggered.status_code in (200, 201), triggered.text
            eventually(lambda: len(api.runs()) >= 4, "the triggered runs after a restart")

            disabled = api.call(
                "POST", "/integrations/github/templates/disable", json={"names": ["repositories"]}
            )
            assert disabled.status_code == 200, disabled.text
            eventually(lambda: all(op["state"] != "running" for op in api.runs()), "runs to end")
            runs_before = len(api.runs())
            refused = api.call(
                "POST",
                "/sync/trigger",
                json={"syncs": ["repositories"], "provider_config_key": "github"},
            )
            assert refused.status_code in (400, 404), refused.text
            config = api.call("GET", "/scripts/config").json()
            assert not [i for i in config if i["providerConfigKey"] == "github" and i["syncs"]]
            for connection in CONNECTIONS:  # the records are kept
                assert {r["id"] for r in api.records(connection)} == expected
        finally:
            stop_serve(process)

        process, port = start_serve(env, log)
        try:
            api = Api(port)
            rows = api.call("GET", "/integrations/github/templates").json()["data"]
            assert not next(t for t in rows if t["name"] == "repositories")["enabled"]
            assert len(api.runs()) == runs_before
            # The CLI writes the same state from another process: serve applies it at once.
            done = subprocess.run(
                [str(CONSOLE_SCRIPT), "templates", "enable", "github", "repositories"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr

            def served() -> bool:
                config = api.call("GET", "/scripts/config").json()
                github_syncs = [i["syncs"] for i in config if i["providerConfigKey"] == "github"]
                return any(s["name"] == "repositories" for syncs in github_syncs for s in syncs)

            eventually(served, "serve to pick up templates enable", seconds=10)
            triggered = api.call(
                "POST",
                "/sync/trigger",
                json={"syncs": ["repositories"], "provider_config_key": "github"},
            )
            assert triggered.status_code in (200, 201), triggered.text
            eventually(lambda: len(api.runs()) >= runs_before + 2, "runs after templates enable")
        finally:
            stop_serve(process)


def _pages(api: Imitation) -> list[list[dict[str, Any]]]:
    return [r["body"] for r in api.fixture.responses if r.get("status", 200) == 200]
