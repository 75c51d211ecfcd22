"""The README's first command: the example project runs end to end, offline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_example_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "run_example.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "3 scripts in 1 integration" in out
    # the full run pages through 60 issues (3 pages of 25), the plain-def sync saves 2 labels
    assert "Issue: 60 saved, 0 updated, 0 deleted, 0 invalid" in out
    assert "Label: 2 saved, 0 updated, 0 deleted, 0 invalid" in out
    # dry runs: 3 pages, then 1 for the incremental one; the first real run: 3 again
    assert done.stderr.count("[info] saved a page of") == 3 + 1 + 3
    # the incremental run (--json) only gets issues updated since the date: 48..60
    document = json.loads(re.search(r"^\{\n.*?^\}$", out, re.S | re.M).group(0))  # type: ignore[union-attr]
    assert [r["id"] for r in document["models"]["Issue"]["saved"]] == [
        str(i) for i in range(48, 61)
    ]
    assert '"title": "Found a bug"' in out
    # real runs: the action's new issue makes 61; the incremental run after it finds none
    assert "Issue: 61 added, 0 updated, 0 deleted, 0 unchanged, 0 invalid" in out
    assert "Issue: 0 added, 0 updated, 0 deleted, 0 unchanged, 0 invalid" in out
    assert "The example ran end to end." in out
    assert "demo-key" not in out.split("connections list", 1)[1]
