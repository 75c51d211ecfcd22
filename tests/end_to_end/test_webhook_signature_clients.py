"""A webhook as a receiver gets it verifies with Nango's own Node client
(``verifyIncomingWebhookRequest``, @nangohq/node pinned in tests/node) and with our
Python client; a tampered body or another key does not."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.webhook_receiver import Delivery, Receiver

from nango_scripts.client import verify_webhook_signature
from nango_scripts.engine import WebhookDelivery
from nango_scripts.engine._webhook_payloads import encode_body
from nango_scripts.settings import WebhookSettings
from nango_scripts.store import OutboxEntry, WebhookOutbox

SECRET = "sk_test_signature_0123"
NODE_DIR = Path(__file__).resolve().parents[1] / "node"

VERIFY = r"""
const { Nango } = require('@nangohq/node');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const nango = new Nango({ secretKey: input.secret });
const other = new Nango({ secretKey: input.secret + 'x' });
const tampered = input.body.replace('"added":2', '"added":3');
process.stdout.write(JSON.stringify({
  genuine: nango.verifyIncomingWebhookRequest(input.body, input.headers),
  tampered: nango.verifyIncomingWebhookRequest(tampered, input.headers),
  otherKey: other.verifyIncomingWebhookRequest(input.body, input.headers),
  legacy: nango.verifyWebhookSignature(input.headers['x-nango-signature'], JSON.parse(input.body)),
}));
"""

PAYLOAD = {
    "from": "nango",
    "type": "sync",
    "connectionId": "société-✓",
    "providerConfigKey": "github",
    "syncName": "issues",
    "model": "Issue",
    "syncType": "INCREMENTAL",
    "success": True,
    "responseResults": {"added": 2, "updated": 0, "deleted": 0},
    "modifiedAfter": "2024-05-01T10:00:00.000Z",
    "queryTimeStamp": "2024-05-01T10:00:00.000Z",
}


@pytest.fixture
def received(tmp_path: Path) -> Iterator[Delivery]:
    """One webhook sent by the delivery worker, as the receiver got it."""
    with Receiver() as receiver, WebhookOutbox.open(f"sqlite:///{tmp_path}/n.db") as outbox:
        outbox.add(
            [OutboxEntry(receiver.url(), encode_body(PAYLOAD))],
            environment="dev",
            integration_id="github",
            connection_id="société-✓",
        )
        delivery = WebhookDelivery(outbox, SECRET, WebhookSettings())

        async def send() -> None:
            async with delivery:
                report = await delivery.drain()
                assert report.delivered == 1

        asyncio.run(send())
        [got] = receiver.accepted()
        yield got


def test_nangos_node_client_verifies_the_signature(received: Delivery, node: str) -> None:
    assert "é" in received.body.decode()  # sent as UTF-8, not \\u escapes
    done = subprocess.run(
        [node, "-e", VERIFY],
        cwd=NODE_DIR,
        input=json.dumps(
            {"secret": SECRET, "body": received.body.decode(), "headers": received.headers}
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "genuine": True,
        "tampered": False,
        "otherKey": False,
        "legacy": True,
    }


def test_the_python_client_verifies_the_signature(received: Delivery) -> None:
    signature = received.headers["x-nango-hmac-sha256"]
    assert verify_webhook_signature(received.body, signature, SECRET)
    assert not verify_webhook_signature(received.body + b" ", signature, SECRET)
    assert not verify_webhook_signature(received.body, signature, SECRET + "x")
