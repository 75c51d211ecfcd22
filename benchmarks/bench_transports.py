"""Which transport under httpx costs least per request (issue #15, "A cheaper HTTP path").

    python benchmarks/bench_transports.py [--records 100000] [--repeat 3] [--only NAME,...]

Against ``_issues_api.py`` (its own process, 127.0.0.1), each candidate fetches all the
records with cursor pagination (``GET /issues?limit=L&cursor=K``), in pages of 100 and of
1,000, and decodes each body with orjson. Each measurement runs in a fresh child process;
the table shows the median of ``--repeat`` runs of records/s (wall) and of the child's CPU
seconds per request (``time.process_time``), and the CPU saved against ``httpx``.

Candidates seen through ``httpx.AsyncClient`` (what scripts and the proxy use):

- ``httpx``: httpx's own transport (httpcore, pure Python), configured as ``ApiClient``
  configures its client (a request event hook, redirects followed): the baseline;
- ``httpx-trimmed``: the same transport, no event hook, no redirect following;
- ``aiohttp``: ``nango_scripts.http._transport.AiohttpTransport`` (aiohttp's C parser);
- ``httpx-aiohttp``: the ``httpx-aiohttp`` package's transport, for comparison;
- ``pyreqwest``: ``pyreqwest.compatibility.httpx.HttpxTransport`` (Rust, reqwest/hyper);
- ``rnet``: a minimal transport over ``rnet`` (Rust) written here, body read whole.

Floors, without httpx (what the client library alone costs): ``raw-aiohttp``,
``raw-pyreqwest``. A candidate whose package is missing is skipped with the pip line.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import certifi
import httpx
import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# name -> the packages it needs (import names) and how to install them
NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "httpx": ((), ""),
    "httpx-trimmed": ((), ""),
    "aiohttp": (("aiohttp",), "pip install 'aiohttp>=3.10'"),
    "httpx-aiohttp": (("httpx_aiohttp",), "pip install httpx-aiohttp"),
    "pyreqwest": (("pyreqwest",), "pip install pyreqwest"),
    "rnet": (("rnet",), "pip install rnet"),
    "raw-aiohttp": (("aiohttp",), "pip install 'aiohttp>=3.10'"),
    "raw-pyreqwest": (("pyreqwest",), "pip install pyreqwest"),
}

Fetch = Callable[[int, int], Awaitable[bytes]]  # (limit, cursor) -> the body


def _ssl() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


async def _hook(request: httpx.Request) -> None:
    """Stands for ``ApiClient``'s ``check_hop``: one awaited hook per request."""


def _api_client_like(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(60.0),
        follow_redirects=True,
        verify=_ssl(),
        event_hooks={"request": [_hook]},
    )


class _RnetTransport(httpx.AsyncBaseTransport):
    """Just enough of a transport over rnet to measure it (no streaming, no error mapping)."""

    def __init__(self) -> None:
        import rnet

        self._rnet = rnet
        self._client = rnet.Client(allow_redirects=False, gzip=False, brotli=False, deflate=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rnet = self._rnet
        body = await request.aread()
        kwargs: dict[str, Any] = {"headers": dict(request.headers.items())}
        if body:
            kwargs["body"] = body
        response = await self._client.request(
            getattr(rnet.Method, request.method), str(request.url), **kwargs
        )
        content = await response.bytes()
        headers: list[tuple[Any, Any]] = list(response.headers.items())
        return httpx.Response(response.status, headers=headers, content=content, request=request)


async def _client_for(name: str) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    """A fetch function for candidate ``name`` and how to close it."""
    if name.startswith("raw-"):
        return await _raw_client(name)
    transport: httpx.AsyncBaseTransport | None = None
    if name == "aiohttp":
        from nango_scripts.http._transport import AiohttpTransport

        transport = AiohttpTransport(_ssl())
    elif name == "httpx-aiohttp":
        import httpx_aiohttp

        transport = httpx_aiohttp.AiohttpTransport(verify=_ssl())
    elif name == "pyreqwest":
        from pyreqwest.client import ClientBuilder
        from pyreqwest.compatibility.httpx import HttpxTransport

        builder = ClientBuilder().follow_redirects(False).gzip(False).brotli(False)
        transport = HttpxTransport(builder.zstd(False).deflate(False).build())
    elif name == "rnet":
        transport = _RnetTransport()
    if name == "httpx-trimmed":
        client = httpx.AsyncClient(timeout=httpx.Timeout(60.0), verify=_ssl())
    else:
        client = _api_client_like(transport)

    async def fetch(limit: int, cursor: int) -> bytes:
        response = await client.get(URL, params={"limit": limit, "cursor": cursor})
        if response.status_code != 200:
            raise RuntimeError(f"{name}: status {response.status_code}")
        return response.content

    return fetch, client.aclose


async def _raw_client(name: str) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    if name == "raw-aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=_ssl()), auto_decompress=False
        )

        async def fetch_aiohttp(limit: int, cursor: int) -> bytes:
            async with session.get(URL, params={"limit": limit, "cursor": cursor}) as response:
                return await response.read()

        return fetch_aiohttp, session.close
    from pyreqwest.client import ClientBuilder

    rclient = ClientBuilder().follow_redirects(False).build()

    async def fetch_pyreqwest(limit: int, cursor: int) -> bytes:
        response = await rclient.get(URL).query({"limit": limit, "cursor": cursor}).build().send()
        return bytes(await response.bytes())

    return fetch_pyreqwest, rclient.close


URL = ""


async def _measure(name: str, limit: int) -> dict[str, float]:
    fetch, close = await _client_for(name)
    try:
        orjson.loads(await fetch(limit, 0))  # connect, warm the code paths
        records = requests = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        cursor: int | None = 0
        while cursor is not None:
            page = orjson.loads(await fetch(limit, cursor))
            records += len(page["items"])
            requests += 1
            cursor = page["next_cursor"]
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        await close()
    return {"records": records, "requests": requests, "wall": wall, "cpu": cpu}


def _child(args: argparse.Namespace) -> None:
    global URL
    URL = f"{args.url}/issues"
    result = asyncio.run(_measure(args.one, args.limit))
    print(json.dumps(result))


def _installed(name: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in NEEDS[name][0])


def _start_api(records: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_issues_api.py"), str(records)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


CRASHES: dict[str, int] = {}  # candidate -> children that died (signal or error) after measuring


def _run_child(name: str, limit: int, url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", name, "--limit", str(limit), "--url", url],
        capture_output=True,
        text=True,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0:
        # pyreqwest, say, can abort the interpreter at exit once its result is printed.
        CRASHES[name] = CRASHES.get(name, 0) + 1
        if not lines:
            tail = out.stderr.strip().splitlines()[-3:]
            raise RuntimeError(f"{name} (page {limit}) exited {out.returncode}: {tail}")
    result: dict[str, float] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limits", default="100,1000")
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _child(args)
        return
    names = [n for n in (args.only.split(",") if args.only else NEEDS) if n]
    limits = [int(n) for n in args.limits.split(",")]
    for name in names:
        if not _installed(name):
            print(f"skipped {name}: not installed ({NEEDS[name][1]})")
    names = [n for n in names if _installed(n)]
    api, url = _start_api(args.records)
    try:
        for limit in limits:  # the API renders each page once: not on a candidate's time
            _run_child("httpx-trimmed", limit, url)
        # Round-robin (each candidate once, then again): on a shared machine, a burst of
        # load elsewhere spreads over the candidates instead of landing on one of them.
        runs_of: dict[tuple[str, int], list[dict[str, float]]] = {}
        for _ in range(args.repeat):
            for limit in limits:
                for name in names:
                    runs_of.setdefault((name, limit), []).append(_run_child(name, limit, url))
        rows: list[tuple[str, int, float, float, float]] = []
        for limit in limits:
            for name in names:
                runs = runs_of[name, limit]
                assert all(r["records"] == args.records for r in runs), (name, runs)
                rate = statistics.median(r["records"] / r["wall"] for r in runs)
                cpu = statistics.median(r["cpu"] / r["requests"] for r in runs)
                wall = statistics.median(r["wall"] / r["requests"] for r in runs)
                rows.append((name, limit, rate, cpu * 1e3, wall * 1e3))
    finally:
        api.terminate()
        api.wait()
    base = {limit: cpu for name, limit, _, cpu, _ in rows if name == "httpx"}
    print(
        f"\n{args.records:,} records, median of {args.repeat} fresh processes; "
        "CPU is the client process's"
    )
    print(
        f"{'candidate':<15} {'page':>5} {'records/s':>10} {'CPU ms/req':>11} "
        f"{'wall ms/req':>12} {'CPU vs httpx':>13}"
    )
    for name, limit, rate, cpu, wall in rows:
        saved = f"{(cpu / base[limit] - 1) * 100:+.0f}%" if limit in base else "-"
        print(f"{name:<15} {limit:>5} {rate:>10,.0f} {cpu:>11.3f} {wall:>12.3f} {saved:>13}")
    for name, count in CRASHES.items():
        print(f"{name}: {count} of its child processes exited abnormally after measuring")


if __name__ == "__main__":
    main()
