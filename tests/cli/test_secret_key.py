"""``nango-scripts secret-key show | rotate``: the key serve uses, a new one on rotation
(and the next webhook signed with it), and a clear exit 2 outside a project."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli
from nango_scripts.engine import Service, send_run_webhooks, sign_body
from nango_scripts.settings import Settings, load_settings
from nango_scripts.store import OutboxEntry, WebhookOutbox

HOOK = "http://hooks.test/nango"
SIGNATURE = "X-Nango-Hmac-Sha256"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project (nango.toml with a webhook URL) as the current directory."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "nango.toml").write_text(f'[webhooks]\nurl = "{HOOK}"\n', encoding="utf-8")
    for name in ("NANGO_SECRET_KEY", "NANGO_SCRIPTS_PROJECT", "NANGO_SCRIPTS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(folder)
    return folder


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["secret-key", *args], env=env)


def serve_key(project: Path) -> str:
    """The key ``serve`` would use: Service.open is what serve calls first."""
    service = Service.open(load_settings(project, {}))
    try:
        return service.secret_key
    finally:
        service.close()


def test_show_prints_the_key_serve_uses(project: Path) -> None:
    shown = invoke("show")
    assert shown.exit_code == 0, shown.output
    key = shown.stdout.strip()
    assert key.startswith("nango_sk_") and len(key) == len("nango_sk_") + 64
    assert "Created the API secret key" in shown.stderr

    assert serve_key(project) == key
    again = invoke("show")
    assert (again.exit_code, again.stdout.strip(), again.stderr) == (0, key, "")


def test_show_prints_the_key_serve_created_first(project: Path) -> None:
    key = serve_key(project)
    shown = invoke("show")
    assert (shown.exit_code, shown.stdout.strip()) == (0, key)


def test_show_prints_the_environment_key_when_it_is_set(project: Path) -> None:
    shown = invoke("show", env={"NANGO_SECRET_KEY": "sk_from_env_1234"})
    assert (shown.exit_code, shown.stdout.strip()) == (0, "sk_from_env_1234")
    assert "NANGO_SECRET_KEY" in shown.stderr


def _pending_webhook(settings: Settings, run_id: str, body: str) -> None:
    with WebhookOutbox.open(settings.database_url) as outbox:
        outbox.add(
            [OutboxEntry(url=HOOK, body=body)],
            environment=settings.environment,
            integration_id="fake",
            connection_id="c1",
            run_id=run_id,
        )


def _send(settings: Settings, run_id: str) -> list[httpx.Request]:
    """What ``nango-scripts run`` does with a run's webhooks, the receiver at the
    transport seam."""
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    delivery = asyncio.run(
        send_run_webhooks(settings, run_id, transport=httpx.MockTransport(receiver))
    )
    assert delivery is not None and delivery.delivered == 1
    return received


def test_rotate_changes_the_key_and_the_next_webhook_is_signed_with_the_new_one(
    project: Path,
) -> None:
    settings = load_settings(project, {})
    old = invoke("show").stdout.strip()
    _pending_webhook(settings, "before", '{"n":1}')
    (sent_before,) = _send(settings, "before")
    assert sent_before.headers[SIGNATURE] == sign_body(old, b'{"n":1}')
    _pending_webhook(settings, "across", '{"n":2}')  # pending while the key changes

    rotated = invoke("rotate", "--yes")

    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip()
    assert new.startswith("nango_sk_") and new != old
    assert "restart" in rotated.stderr and "pending" in rotated.stderr
    assert invoke("show").stdout.strip() == new
    assert serve_key(project) == new
    (sent_after,) = _send(settings, "across")
    assert sent_after.headers[SIGNATURE] == sign_body(new, b'{"n":2}')
    assert sent_after.headers[SIGNATURE] != sign_body(old, b'{"n":2}')


def test_rotate_asks_for_confirmation(project: Path) -> None:
    old = invoke("show").stdout.strip()
    refused = invoke("rotate")  # CliRunner's stdin is not a terminal
    assert refused.exit_code == 2
    assert "pass --yes" in refused.output
    assert invoke("show").stdout.strip() == old


def test_rotate_refuses_a_key_from_the_environment(project: Path) -> None:
    refused = invoke("rotate", "--yes", env={"NANGO_SECRET_KEY": "sk_from_env_1234"})
    assert refused.exit_code == 2
    assert "comes from NANGO_SECRET_KEY" in refused.output
    assert "Traceback" not in refused.output


@pytest.mark.parametrize("command", [["show"], ["rotate", "--yes"]], ids=" ".join)
def test_outside_a_project_each_exits_2_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    empty = tmp_path / "nowhere"
    empty.mkdir()
    if any((parent / "nango.toml").exists() for parent in empty.parents):
        pytest.skip("a nango.toml above the temporary folder makes it part of a project")
    for name in ("NANGO_SECRET_KEY", "NANGO_SCRIPTS_PROJECT", "NANGO_SCRIPTS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(empty)

    result = invoke(*command)

    assert result.exit_code == 2, result.output
    assert "no nango-scripts project here" in result.output
    assert str(empty) in result.output
    assert "Traceback" not in result.output
    assert list(empty.iterdir()) == []
