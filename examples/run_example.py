"""Run the example project end to end, offline.

    python examples/run_example.py

Starts the example's issue-tracker API on 127.0.0.1, then drives the real CLI:
compile, create a connection, dry-run both syncs and the action, then run the syncs
for real into the records store. Everything it writes goes to a temporary folder, so
it can be run again and again.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "issue-tracker"
sys.path.insert(0, str(PROJECT))

from fake_api import API_KEY, TrackerApi  # noqa: E402


def main() -> int:
    cli = Path(sys.executable).with_name("nango-scripts")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "nango_scripts.cli.main"]
    api = TrackerApi().start()
    with tempfile.TemporaryDirectory(prefix="nango-example-") as state:
        env = {
            **os.environ,
            "NANGO_SCRIPTS_PROJECT": str(PROJECT),
            "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{state}/nango.db",
            "NANGO_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
            "NANGO_INTEGRATION_TRACKER_BASE_URL": api.url,
        }
        steps = [
            ["compile"],
            [
                "connections",
                "create",
                "tracker",
                "acme",
                "--credentials",
                f'{{"type": "API_KEY", "apiKey": "{API_KEY}"}}',
            ],
            ["connections", "list"],
            ["dryrun", "issues", "acme"],
            ["dryrun", "issues", "acme", "--last-sync-date", "2024-05-03T00:00:00Z", "--json"],
            ["dryrun", "labels", "acme"],
            [
                "dryrun",
                "create_issue",
                "acme",
                "--input",
                '{"title": "Found a bug", "labels": ["bug"]}',
            ],
            # real runs into the records store: the second one is incremental
            ["run", "issues", "acme"],
            ["run", "issues", "acme"],
            ["run", "labels", "acme", "--json"],
        ]
        try:
            for args in steps:
                print(f"\n$ nango-scripts {shlex.join(args)}", flush=True)
                done = subprocess.run([*command, *args], env=env)
                if done.returncode != 0:
                    print(f"\nexample failed at: nango-scripts {shlex.join(args)}", file=sys.stderr)
                    return done.returncode
        finally:
            api.stop()
    print("\nThe example ran end to end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
