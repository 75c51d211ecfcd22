"""Nango's own Node client (pinned in tests/node), for the tests that check our
server and webhooks against it: ``node``, installed with ``npm ci`` once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE_CLIENT = NODE_DIR / "node_modules" / "@nangohq" / "node"


@pytest.fixture(scope="session")
def node() -> str:
    """``node``, with Nango's pinned client installed in tests/node (``npm ci`` once)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (node) to run Nango's Node client")
    if not NODE_CLIENT.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("needs npm to install Nango's Node client (npm ci in tests/node)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci in tests/node failed:\n{done.stdout}\n{done.stderr}"
    return node
