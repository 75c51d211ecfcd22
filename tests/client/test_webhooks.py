"""verify_webhook: the HMAC-SHA256 of the raw body, keyed with the secret key."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import httpx
import pytest

from nango_scripts.client import (
    SIGNATURE_HEADER,
    AsyncNango,
    Nango,
    verify_webhook_signature,
    webhook_signature,
)

KEY = "sk_webhooks"
BODY = json.dumps(
    {"from": "nango", "type": "sync", "connectionId": "c1", "model": "Issue", "note": "é"},
    separators=(",", ":"),
    ensure_ascii=False,
).encode()


def signed(body: bytes = BODY, key: str = KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def nango() -> Iterator[Nango]:
    with Nango(secret_key=KEY) as client:  # verifying sends nothing
        yield client


def test_signature_is_the_hex_hmac_of_the_body() -> None:
    assert webhook_signature(BODY, KEY) == signed()
    assert webhook_signature(BODY.decode(), KEY) == signed()
    assert len(signed()) == 64


def test_a_body_signed_with_the_key_verifies(nango: Nango) -> None:
    assert nango.verify_webhook(BODY, {SIGNATURE_HEADER: signed()})
    assert nango.verify_webhook(BODY.decode(), {"x-nango-hmac-sha256": signed()})
    assert nango.verify_webhook(BODY, {"X-NANGO-HMAC-SHA256": signed().upper()})
    assert nango.verify_webhook(BODY, httpx.Headers({"x-nango-hmac-sha256": signed()}))


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY.replace(b"Issue", b"Issuf"), {SIGNATURE_HEADER: signed()}),  # tampered body
        (BODY, {SIGNATURE_HEADER: signed(key="another key")}),  # wrong key
        (BODY, {}),  # no signature
        (BODY, {"X-Nango-Signature": signed()}),  # the other (legacy) header only
        (BODY, {SIGNATURE_HEADER: ""}),
        (BODY, {SIGNATURE_HEADER: signed()[:-1]}),
        (BODY, {SIGNATURE_HEADER: "é" * 64}),
    ],
)
def test_anything_else_does_not(nango: Nango, body: bytes, headers: dict[str, str]) -> None:
    assert nango.verify_webhook(body, headers) is False


def test_a_webhook_signing_key_replaces_the_secret_key() -> None:
    with Nango(secret_key=KEY, webhook_signing_key="whsk") as nango:
        assert nango.verify_webhook(BODY, {SIGNATURE_HEADER: signed(key="whsk")})
        assert not nango.verify_webhook(BODY, {SIGNATURE_HEADER: signed()})


@pytest.mark.anyio
async def test_the_async_client_and_the_function_agree() -> None:
    async with AsyncNango(secret_key=KEY) as nango:
        assert nango.verify_webhook(BODY, {SIGNATURE_HEADER: signed()})
    assert verify_webhook_signature(BODY, signed(), KEY)
    assert not verify_webhook_signature(BODY, signed(), "")
    assert not verify_webhook_signature(BODY, None, KEY)
