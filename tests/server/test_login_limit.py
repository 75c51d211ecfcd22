"""Failed logins are limited per client: the bucket itself (a clock we move), both doors
that take the secret key (the API's Bearer header and the Activity page's form) sharing
it in-process, and ``serve`` as a subprocess, where the client is whatever uvicorn says
(the peer, or X-Forwarded-For from a trusted local proxy)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.fakeapi import FakeApi
from support.server_harness import (
    SECRET,
    Harness,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)

from nango_scripts.server._login_limit import BURST, REFILL_S, LoginLimiter, client_key

WRONG = {"Authorization": "Bearer not-the-key"}
RIGHT = {"Authorization": f"Bearer {SECRET}"}


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the bucket ---------------------------------------------------------------------------


def test_a_client_may_fail_a_burst_then_waits_for_a_token() -> None:
    clock = Clock()
    limiter = LoginLimiter(burst=3, refill_s=2.0, clock=clock)
    for _ in range(3):
        assert limiter.wait_s("a") == 0
        limiter.failed("a")
    assert limiter.wait_s("a") == 2
    clock.now += 1.5
    assert limiter.wait_s("a") == 1  # rounded up: never an invitation to come back too early
    clock.now += 0.5
    assert limiter.wait_s("a") == 0
    limiter.failed("a")
    assert limiter.wait_s("a") == 2  # one token back buys one more try, no more


def test_one_clients_failures_do_not_limit_another() -> None:
    limiter = LoginLimiter(burst=2, refill_s=2.0, clock=Clock())
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.wait_s("a") > 0
    assert limiter.wait_s("b") == 0


def test_a_full_bucket_again_is_forgotten_and_the_table_stays_bounded() -> None:
    clock = Clock()
    limiter = LoginLimiter(burst=2, refill_s=1.0, max_clients=100, clock=clock)
    for n in range(1000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) <= 100
    clock.now += 2.0  # every bucket is full again: the next overflow forgets them all
    for n in range(5):
        limiter.failed(f"10.9.9.{n}")
    assert len(limiter) == 5


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        (("192.0.2.7", 5000), "192.0.2.7"),
        (("2001:db8:1:2:3:4:5:6", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::1", 5000), "2001:db8:1:2::/64"),  # one /64: one client
        (("::ffff:192.0.2.7", 5000), "192.0.2.7"),
        (("not-an-address", 5000), "not-an-address"),
        (None, "unknown"),
    ],
)
def test_clients_are_addresses_and_ipv6_networks(peer: tuple[str, int] | None, key: str) -> None:
    assert client_key(peer) == key


# -- both doors, in-process ---------------------------------------------------------------


def client_at(harness: Harness, address: str) -> httpx.AsyncClient:
    """A client of the app, with no key, seen as coming from ``address``."""
    transport = httpx.ASGITransport(app=harness.transport.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.anyio
async def test_wrong_api_keys_get_a_429_with_retry_after_and_the_right_key_soon_works(
    harness: Harness,
) -> None:
    async with client_at(harness, "198.51.100.1") as attacker:
        statuses = [
            (await attacker.get("/connections", headers=WRONG)).status_code for _ in range(300)
        ]
        assert statuses[:BURST] == [401] * BURST
        assert set(statuses[BURST:]) == {429}
        limited = await attacker.get("/connections", headers=RIGHT)
        # while limited the key is not even compared: a right guess would learn nothing
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "too_many_attempts"
        wait = int(limited.headers["retry-after"])
        assert 1 <= wait <= REFILL_S
        async with client_at(harness, "198.51.100.2") as neighbour:
            assert (await neighbour.get("/connections", headers=RIGHT)).status_code == 200
        await asyncio.sleep(wait)
        assert (await attacker.get("/connections", headers=RIGHT)).status_code == 200
        # a request with no key at all is no guess: it is told to send one
        assert (await attacker.get("/connections")).status_code == 401


@pytest.mark.anyio
async def test_wrong_keys_on_the_login_form_are_limited_and_share_the_apis_bucket(
    harness: Harness,
) -> None:
    async with client_at(harness, "198.51.100.3") as attacker:
        for _ in range(BURST // 2):
            assert (await attacker.get("/connections", headers=WRONG)).status_code == 401
        statuses = [
            (await attacker.post("/login", data={"key": "not-the-key"})).status_code
            for _ in range(BURST)
        ]
        assert statuses == [401] * (BURST - BURST // 2) + [429] * (BURST // 2)
        limited = await attacker.post("/login", data={"key": SECRET})
        assert limited.status_code == 429
        assert "set-cookie" not in limited.headers
        wait = int(limited.headers["retry-after"])
        assert f"Try again in {wait} s" in limited.text
        assert (await attacker.get("/connections", headers=RIGHT)).status_code == 429
        await asyncio.sleep(wait)
        logged_in = await attacker.post("/login", data={"key": SECRET})
        assert logged_in.status_code == 303
        assert "set-cookie" in logged_in.headers


# -- serve as a subprocess ----------------------------------------------------------------


def test_serve_limits_each_client_of_its_own(tmp_path: Path, fake_api: FakeApi) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    env.update(make_project(tmp_path, fake_api))
    env["NANGO_SECRET_KEY"] = SECRET
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    try:
        wait_healthy(url, process, log)
        with httpx.Client(base_url=url, timeout=10) as client:
            statuses = [client.get("/records", headers=WRONG).status_code for _ in range(300)]
            assert 429 in statuses[: BURST + 21], f"no limit after the burst: {statuses}"
            assert statuses.count(401) <= BURST + 20, statuses  # a few refilled meanwhile
            assert statuses[-1] == 429
            limited = client.get("/connections", headers=RIGHT)
            assert limited.status_code == 429
            wait = int(limited.headers["retry-after"])
            # another client behind the same local proxy (uvicorn trusts 127.0.0.1's
            # X-Forwarded-For by default) is not locked out by this one's failures
            behind_proxy = {**RIGHT, "X-Forwarded-For": "203.0.113.9"}
            assert client.get("/connections", headers=behind_proxy).status_code == 200
            time.sleep(wait)
            assert client.get("/connections", headers=RIGHT).status_code == 200
    finally:
        stop(process, log)
