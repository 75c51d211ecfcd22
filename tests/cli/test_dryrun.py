"""``nango-scripts dryrun``: a real project folder, a real local API, the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.cli_project import API_KEY, CONSOLE_SCRIPT, invoke, make_project, serve_items
from support.fakeapi import FakeApi


@pytest.fixture
def project(tmp_path: Path, fake_api: FakeApi) -> dict[str, str]:
    return make_project(tmp_path, fake_api)


def test_sync_prints_counts_and_records(project: dict[str, str], fake_api: FakeApi) -> None:
    result = invoke(project, "dryrun", "items", "c1")
    assert result.exit_code == 0, result.output
    assert "Item: 5 saved, 0 updated, 0 deleted, 0 invalid" in result.stdout
    assert '"id": "4"' in result.stdout
    assert "[info] finished items" in result.stderr
    assert len(fake_api.requests_to("/items")) == 3


def test_json_output_is_one_object_with_the_spec_shape(project: dict[str, str]) -> None:
    result = invoke(project, "dryrun", "items", "c1", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {
        "script": "items",
        "models": {
            "Item": {
                "saved": [{"id": str(i), "n": i} for i in range(5)],
                "updated": [],
                "deleted": [],
            }
        },
        "output": None,
    }


def test_last_sync_date_and_metadata_reach_the_script(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    result = invoke(
        project,
        "dryrun",
        "items",
        "c1",
        "--last-sync-date",
        "2024-05-01T12:00:00Z",
        "--metadata",
        '{"only": "open"}',
    )
    assert result.exit_code == 0, result.output
    first = fake_api.requests_to("/items")[0]
    assert first.query == {"since": "2024-05-01T12:00:00+00:00", "only": "open"}


def test_action_with_input_from_a_file(project: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text('{"name": "ada"}')
    result = invoke(
        project, "dryrun", "greet", "c1", "--input", f"@{tmp_path / 'input.json'}", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "script": "greet",
        "models": {},
        "output": {"text": "hello ada"},
    }


def test_action_error_exits_1_with_its_payload(project: dict[str, str]) -> None:
    result = invoke(project, "dryrun", "greet", "c1", "--input", '{"name": "nobody"}', "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["error"]["type"] == "action_error"
    assert document["error"]["payload"] == {"message": "nobody to greet", "code": "empty"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{not json"], "not valid JSON"),
        (["--input", '{"name": 3}'], "does not match Greeting"),
        (["--input", "@/no/such/file.json"], "cannot read"),
    ],
)
def test_bad_input_is_bad_usage(project: dict[str, str], args: list[str], message: str) -> None:
    result = invoke(project, "dryrun", "greet", "c1", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_last_sync_date_and_misplaced_flags_are_bad_usage(project: dict[str, str]) -> None:
    bad_date = invoke(project, "dryrun", "items", "c1", "--last-sync-date", "yesterday")
    assert bad_date.exit_code == 2 and "not an ISO date" in bad_date.output
    input_to_sync = invoke(project, "dryrun", "items", "c1", "--input", "{}")
    assert input_to_sync.exit_code == 2 and "only actions take input" in input_to_sync.output


def test_unknown_script_and_connection_are_bad_usage(project: dict[str, str]) -> None:
    unknown_script = invoke(project, "dryrun", "itemz", "c1")
    assert unknown_script.exit_code == 2
    assert "items" in unknown_script.output  # the close match is suggested
    unknown_connection = invoke(project, "dryrun", "items", "nope")
    assert unknown_connection.exit_code == 2
    assert "nope" in unknown_connection.output


def test_invalid_records_warn_but_validate_fails(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    fake_api.route("/items", serve_items([{"id": "1", "n": 1}, {"id": "2", "n": "two"}]))
    lenient = invoke(project, "dryrun", "items", "c1")
    assert lenient.exit_code == 0, lenient.output
    assert "1 saved, 0 updated, 0 deleted, 1 invalid" in lenient.stdout
    assert "invalid Item record '2': n:" in lenient.stderr
    strict = invoke(project, "dryrun", "items", "c1", "--validate")
    assert strict.exit_code == 1
    assert "1 invalid Item record(s)" in strict.stderr


def test_an_http_error_is_one_paragraph_and_exit_1(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    fake_api.route("/items", lambda r: (403, {}, {"message": "forbidden here"}))
    result = invoke(project, "dryrun", "items", "c1")
    assert result.exit_code == 1
    assert "403" in result.stderr and "forbidden here" in result.stderr
    assert "Traceback" not in result.output


def test_an_http_error_that_quotes_the_credentials_masks_them(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    fake_api.route("/items", lambda r: (401, {}, {"unknown key": r.headers.get("x-key")}))
    result = invoke(project, "dryrun", "items", "c1")
    assert result.exit_code == 1
    assert '401 Unauthorized: {"unknown key": "***"}' in result.stderr
    assert API_KEY not in result.output


def test_the_console_script_keeps_stdout_pure_json(project: dict[str, str]) -> None:
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "dryrun", "items", "c1", "--json"],
        env={**os.environ, **project},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["models"]["Item"]["saved"][0] == {"id": "0", "n": 0}
    assert "finished items" in done.stderr
    assert API_KEY not in done.stdout + done.stderr


def test_json_stdout_stays_pure_when_the_script_prints(project: dict[str, str]) -> None:
    result = invoke(project, "dryrun", "ping", "c1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"script": "ping", "models": {}, "output": {"pong": True}}
    assert "pinging from the script" in result.stderr


def test_input_for_an_action_without_input_is_bad_usage(project: dict[str, str]) -> None:
    result = invoke(project, "dryrun", "ping", "c1", "--input", "{}")
    assert result.exit_code == 2
    assert "takes no input" in result.output


def test_a_crash_is_one_line_and_debug_adds_the_traceback(project: dict[str, str]) -> None:
    plain = invoke(project, "dryrun", "crashy", "c1")
    assert plain.exit_code == 1
    assert "ValueError: kaboom (at crashy.py:" in plain.stderr
    assert "Traceback" not in plain.output
    for args in (["--debug", "dryrun", "crashy", "c1"], ["dryrun", "crashy", "c1", "--debug"]):
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *args],
            env={**os.environ, **project},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback (most recent call last)" in done.stderr
        assert 'raise ValueError("kaboom")' in done.stderr


def test_a_model_whose_records_were_all_invalid_is_still_in_the_json(
    project: dict[str, str], fake_api: FakeApi
) -> None:
    fake_api.route("/items", serve_items([{"id": "1", "n": "one"}]))
    result = invoke(project, "dryrun", "items", "c1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["models"] == {
        "Item": {"saved": [], "updated": [], "deleted": []}
    }


def test_an_invalid_input_is_reported_once(project: dict[str, str]) -> None:
    result = invoke(project, "dryrun", "greet", "c1", "--input", '{"name": 3}')
    assert result.exit_code == 2, result.output
    assert result.output.count("does not match Greeting") == 1, result.output
    as_json = invoke(project, "dryrun", "greet", "c1", "--input", '{"name": 3}', "--json")
    assert json.loads(as_json.stdout)["error"]["type"] == "invalid_input"
    assert "does not match Greeting" in as_json.stderr  # the log line is all stderr has
