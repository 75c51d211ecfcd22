"""No secret reaches a cassette or a snapshot, and the scrubbed files still replay.

Each script of ``recorded_project`` meets its secrets somewhere else: an API key in
``Authorization: Bearer ...``, an API key in the query and echoed in a JSON body and
posted in one, a session cookie (Set-Cookie, then Cookie), an OAuth2 refresh (refresh
token and client secret in the form, new tokens in the answer) and basic auth. The files
are read as raw bytes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from support.fakeapi import FakeApi, Received, Reply
from support.recorded_project import (
    CONNECTIONS,
    SECRETS,
    invoke,
    make_project,
    offline_env,
    secret_forms,
    written_files,
)

SCRIPTS = ["items", "whoami", "contacts", "me"]


@pytest.fixture
def project(tmp_path: Path, fake_api: FakeApi) -> tuple[Path, dict[str, str]]:
    return make_project(tmp_path, fake_api)


def _leaks(files: dict[Path, bytes]) -> list[str]:
    return [
        f"{name} in {path.name}"
        for path, data in files.items()
        for name, form in secret_forms().items()
        if form.encode() in data
    ]


def test_no_secret_of_any_kind_is_written_and_every_script_still_replays(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    live: dict[str, dict[str, object]] = {}
    for script in SCRIPTS:
        result = invoke(env, "dryrun", script, "c1", "--save-responses", "--json")
        assert result.exit_code == 0, result.output
        assert "Warning" not in result.stderr, result.stderr
        live[script] = json.loads(result.stdout)
    # the secrets really were on the wire (else this test would prove nothing)
    assert SECRETS["cookie"] in fake_api.requests_to("/whoami/again")[0].headers["cookie"]
    assert (
        fake_api.requests_to("/oauth/token")[0].form()["client_secret"]
        == (SECRETS["client_secret"])
    )
    assert live["whoami"]["output"]["first"]["echo"] == SECRETS["query_key"]  # type: ignore[index]

    files = written_files(root)
    assert len(files) == 2 * len(SCRIPTS)
    assert _leaks(files) == []
    cassettes = b"".join(data for path, data in files.items() if path.suffix == ".yaml")
    for placeholder in (
        b"<<redacted>>",
        b"<<apiKey>>",
        b"%3C%3Capi_key%3E%3E",
        b"<<access_token>>",
        b"%3C%3Crefresh_token%3E%3E",
        b"%3C%3Cclient_secret%3E%3E",
        b"<<username>>",
    ):
        assert placeholder in cassettes

    fake_api.stop()
    offline = offline_env(root, tmp_path)
    for script in SCRIPTS:
        replayed = invoke(offline, "dryrun", script, "c1", "--replay", "--json")
        assert replayed.exit_code == 0, replayed.output
        snapshot = next(root.glob(f"*/tests/snapshots/{script}.json"))
        assert json.loads(replayed.stdout) == json.loads(snapshot.read_text())
    # the token exchange recorded after the 401 replayed too
    assert (
        "refreshed the OAuth2 access token"
        in invoke(offline, "dryrun", "contacts", "c1", "--replay").stderr
    )


def test_a_token_refreshed_before_the_first_request_is_scrubbed_and_not_needed_to_replay(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    expired = {**CONNECTIONS["oauth"], "expires_at": "2020-01-01T00:00:00Z"}
    created = invoke(
        env, "connections", "create", "oauth", "c2", "--credentials", json.dumps(expired)
    )
    assert created.exit_code == 0, created.output
    recorded = invoke(env, "dryrun", "contacts", "c2", "--save-responses")
    assert recorded.exit_code == 0, recorded.output
    assert [r.path for r in fake_api.requests] == ["/oauth/token", "/contacts"]
    assert _leaks(written_files(root)) == []
    fake_api.stop()
    replayed = invoke(offline_env(root, tmp_path), "dryrun", "contacts", "c2", "--replay")
    assert replayed.exit_code == 0, replayed.output
    assert "Contact: 2 saved" in replayed.stdout


GZIPPED_ACTION = """
from nango_scripts import NangoAction, action


@action()
async def profile(nango: NangoAction) -> dict:
    return (await nango.get("/profile")).json()
"""


def test_compressed_answers_are_stored_decompressed_and_scrubbed(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    (root / "paged" / "actions").mkdir()
    (root / "paged" / "actions" / "profile.py").write_text(GZIPPED_ACTION)

    def profile(request: Received) -> Reply:
        body = json.dumps({"token_echo": SECRETS["header_key"], "plan": "pro"}).encode()
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        return 200, headers, gzip.compress(body)

    fake_api.route("/profile", profile)
    recorded = invoke(env, "dryrun", "profile", "c1", "--save-responses")
    assert recorded.exit_code == 0, recorded.output
    cassette = root / "paged" / "tests" / "cassettes" / "profile.yaml"
    assert b'"token_echo": "<<apiKey>>"' in cassette.read_bytes()
    assert _leaks(written_files(root)) == []
    fake_api.stop()
    replayed = invoke(offline_env(root, tmp_path), "dryrun", "profile", "c1", "--replay", "--json")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["output"] == {"token_echo": "<<apiKey>>", "plan": "pro"}
