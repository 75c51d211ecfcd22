"""Record a template's cassettes from its fixtures, through the real CLI, then check them.

    python tests/templates/record.py templates/github                 # every fixture
    python tests/templates/record.py templates/github issues@later    # only these
    python tests/templates/record.py --check templates/github         # replay only

For each ``tests/fixtures/<cassette>.json`` of the provider folder: start the local
imitation (tests/templates/imitation.py) with that fixture, make a throw-away project
whose integration (named like the provider) points at it and whose folder is the
template folder itself (a symlink), store a connection with stand-in credentials, and run
``nango-scripts dryrun <script> ... --save-responses [--variant V] [--expect-failure]``.
The cassette and snapshot land in the template's ``tests/``; then the imitation's origin
is replaced by the provider's real one in both. ``--check`` (and every recording) ends
with ``nango-scripts test`` on a copy of the folder, against the real base URL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.imitation import Fixture, Imitation, load_fixture

from nango_scripts.providers import resolve_integration
from nango_scripts.testing import integration_section, integration_table

CONNECTION = "rec"
_CREDENTIALS: dict[str, dict[str, Any]] = {
    "oauth2": {"type": "OAUTH2", "access_token": "rec-access-token"},
    "oauth2_cc": {"type": "OAUTH2_CC", "client_id": "rec-client", "client_secret": "rec-secret"},
    "api_key": {"type": "API_KEY", "apiKey": "rec-api-key"},
    "basic": {"type": "BASIC", "username": "rec-user", "password": "rec-password"},
    "none": {},
}


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NANGO_SCRIPTS_PROJECT": str(project)}
    env.pop("NANGO_SCRIPTS_DATABASE_URL", None)
    exe = Path(sys.executable).parent / "nango-scripts"
    return subprocess.run(
        [str(exe), *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def record(folder: Path, fixture: Fixture) -> bool:
    provider = folder.name
    real = resolve_integration(provider, integration_section(folder))
    real_split = urlsplit(real.base_url)
    real_origin = f"{real_split.scheme}://{real_split.netloc}"
    with (
        Imitation(fixture, base_path=real_split.path.rstrip("/")) as api,
        tempfile.TemporaryDirectory() as tmp,
    ):
        project = Path(tmp)
        (project / "nango.toml").write_text(integration_table(folder, base_url=api.base_url))
        (project / provider).symlink_to(folder.resolve(), target_is_directory=True)
        made = _cli(
            project,
            "connections",
            "create",
            provider,
            CONNECTION,
            "--credentials",
            json.dumps(_CREDENTIALS[real.auth]),
        )
        if made.returncode != 0:
            print(f"  ! could not create the connection: {made.stderr.strip()}")
            return False
        args = ["dryrun", fixture.script, CONNECTION, "--integration", provider, "--json"]
        args.append("--save-responses")
        if fixture.variant:
            args += ["--variant", fixture.variant]
        if fixture.expect_error:
            args.append("--expect-failure")
        if fixture.metadata is not None:
            args += ["--metadata", json.dumps(fixture.metadata)]
        if fixture.input is not None:
            args += ["--input", json.dumps(fixture.input)]
        if fixture.last_sync_date:
            args += ["--last-sync-date", fixture.last_sync_date]
        done = _cli(project, *args)
        ok = done.returncode == 0 and "Saved " in done.stderr
        if not ok:
            print(f"  ! dryrun failed (exit {done.returncode}):")
            print("    " + done.stderr.strip().replace("\n", "\n    "))
        if api.unmatched:
            print("  ! requests no fixture entry matched:")
            for line in api.unmatched:
                print(f"    {line}")
        if api.unused():
            print("  ? fixture entries never requested:")
            for line in api.unused():
                print(f"    {line}")
        if "Warning:" in done.stderr:
            print("    " + done.stderr.strip().replace("\n", "\n    "))
        origin = api.origin
    if not ok:
        return False
    stem = fixture.path.stem
    for path in (
        folder / "tests" / "cassettes" / f"{stem}.yaml",
        folder / "tests" / "snapshots" / f"{stem}.json",
    ):
        text = path.read_text(encoding="utf-8").replace(origin, real_origin)
        path.write_text(text.replace(urlsplit(origin).netloc, real_split.netloc))
    return True


def check(folder: Path) -> bool:
    """``nango-scripts test`` on a copy of the folder, against the provider's real base URL."""
    provider = folder.name
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "nango.toml").write_text(integration_table(folder))
        shutil.copytree(folder, project / provider, ignore=shutil.ignore_patterns("__pycache__"))
        done = _cli(project, "test", "-q")
    print(done.stdout.strip()[-3000:])
    if done.returncode != 0:
        print(done.stderr.strip()[-3000:])
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="a provider folder: templates/<provider>")
    parser.add_argument("cassettes", nargs="*", help="fixture names (default: all)")
    parser.add_argument("--check", action="store_true", help="replay only, record nothing")
    ns = parser.parse_args(argv)
    folder: Path = ns.folder.resolve()
    if not (folder / "tests" / "fixtures").is_dir() and not ns.check:
        print(f"{folder}/tests/fixtures does not exist")
        return 2
    failed: list[str] = []
    if not ns.check:
        fixtures = sorted((folder / "tests" / "fixtures").glob("*.json"))
        if ns.cassettes:
            fixtures = [f for f in fixtures if f.stem in ns.cassettes]
            unknown = set(ns.cassettes) - {f.stem for f in fixtures}
            if unknown:
                print(f"no fixture named {', '.join(sorted(unknown))}")
                return 2
        for path in fixtures:
            print(f"{folder.name}/{path.stem}")
            try:
                fixture = load_fixture(path)
            except ValueError as exc:
                print(f"  ! {exc}")
                failed.append(path.stem)
                continue
            if not record(folder, fixture):
                failed.append(path.stem)
    print(f"checking {folder.name}: replaying every cassette")
    if not check(folder):
        failed.append("check")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
