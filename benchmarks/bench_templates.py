"""The template library's cost: ``serve`` start-up with and without the whole built-in pack
enabled, and ``templates list`` in a fresh process.

    python benchmarks/bench_templates.py [--runs 5]

1. ``serve`` start-up: from spawning ``nango-scripts serve`` to its first ``/health`` 200,
   in a project with one integration per provider of the pack. Measured without any
   template enabled, then with every template of the pack enabled in nango.toml (each
   ``templates = [...]``), so every template module is imported and composed before the
   service answers. Target: under 1 s more with the pack than without.
2. ``templates list`` and ``templates list --json`` in a fresh process (the pack's
   index.json is read; nothing is imported). Target: under 300 ms.
3. For reference: importing every template in-process (what start-up pays with the pack).

Each figure is the median of ``--runs`` runs (min and max shown).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _library() -> dict[str, list[str]]:
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "templates", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    by_provider: dict[str, list[str]] = {}
    for row in json.loads(done.stdout)["templates"]:
        by_provider.setdefault(row["provider"], []).append(row["name"])
    return by_provider


def _nango_toml(library: dict[str, list[str]], with_templates: bool) -> str:
    params = {
        "jira": 'base_url_params = { cloud_id = "00000000-0000-0000-0000-000000000000" }',
        "salesforce": 'base_url_params = { instance_url = "https://acme.my.salesforce.com" }',
        "zendesk": 'base_url_params = { subdomain = "acme" }',
    }
    tables = []
    for provider, names in sorted(library.items()):
        lines = [f"[integrations.{provider}]", f'provider = "{provider}"']
        if provider in params:
            lines.append(params[provider])
        if with_templates:
            lines.append("templates = [" + ", ".join(json.dumps(n) for n in names) + "]")
        tables.append("\n".join(lines))
    return "\n\n".join(tables) + "\n"


def _serve_start(project: Path) -> float:
    port = _free_port()
    env = {
        **os.environ,
        "NANGO_SCRIPTS_PROJECT": str(project),
        "NANGO_SECRET_KEY": "sk_bench_templates_0123456789",
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode} in {project}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(timeout=20)


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - started


def _show(label: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    print(
        f"  {label:<44} median {median * 1000:7.0f} ms   "
        f"(min {min(samples) * 1000:.0f}, max {max(samples) * 1000:.0f}, n={len(samples)})"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    library = _library()
    count = sum(len(v) for v in library.values())
    print(f"Built-in pack: {count} templates of {len(library)} providers; {runs} runs each.")

    print("1. serve start-up (spawn -> first /health 200)")
    medians = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, with_templates in (("without templates", False), ("with the whole pack", True)):
            project = Path(tmp) / label.replace(" ", "-")
            project.mkdir()
            (project / "nango.toml").write_text(_nango_toml(library, with_templates))
            _serve_start(project)  # the first start creates and migrates the database
            medians[label] = _show(label, [_serve_start(project) for _ in range(runs)])
    extra = medians["with the whole pack"] - medians["without templates"]
    print(f"  the pack adds {extra * 1000:.0f} ms to start-up (target: under 1000 ms)")

    print("2. templates list in a fresh process")
    for argv in (["templates", "list"], ["templates", "list", "--json"]):
        _show(" ".join(argv), [_timed([str(CONSOLE_SCRIPT), *argv]) for _ in range(runs)])
    print("  target: under 300 ms")

    print("3. importing every template in-process (for reference)")
    code = (
        "import time; t = time.perf_counter(); "
        "from nango_scripts.dsl import load_library; n = len(load_library().templates); "
        "print(time.perf_counter() - t)"
    )
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        samples.append(float(done.stdout))
    _show("nango_scripts.dsl import + load_library()", samples)


if __name__ == "__main__":
    main()
