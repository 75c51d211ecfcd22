"""``dryrun --save-responses`` then ``--replay``: a real project, a real local API, the real CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from support.fakeapi import FakeApi
from support.recorded_project import ITEMS, SECRETS, invoke, make_project, offline_env

from nango_scripts.testing import CassetteError, cassette_path, run_script_from_cassette


@pytest.fixture
def project(tmp_path: Path, fake_api: FakeApi) -> tuple[Path, dict[str, str]]:
    return make_project(tmp_path, fake_api)


def test_three_pages_with_absolute_links_replay_to_the_same_outputs_with_the_network_closed(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    recorded = invoke(env, "dryrun", "items", "c1", "--save-responses", "--json")
    assert recorded.exit_code == 0, recorded.output
    assert len(fake_api.requests_to("/items")) == 3
    live = json.loads(recorded.stdout)
    assert live["models"]["Item"]["saved"] == ITEMS
    cassette = root / "paged" / "tests" / "cassettes" / "items.yaml"
    snapshot = root / "paged" / "tests" / "snapshots" / "items.json"
    assert f"Saved 3 HTTP exchange(s) to {cassette}" in recorded.stderr
    assert str(snapshot) in recorded.stderr
    assert "Warning" not in recorded.stderr

    fake_api.stop()  # the network is closed from here on
    replayed = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay", "--json")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout) == live
    assert json.loads(snapshot.read_text()) == live
    assert "[info] done" in replayed.stderr


def test_snapshot_is_pretty_sorted_json_with_a_trailing_newline(
    project: tuple[Path, dict[str, str]],
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    text = (root / "paged" / "tests" / "snapshots" / "items.json").read_text()
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert set(document) == {"script", "models", "output"}


def test_the_cassette_is_vcrpy_yaml_with_one_interaction_per_page(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    data = yaml.safe_load((root / "paged" / "tests" / "cassettes" / "items.yaml").read_text())
    uris = [i["request"]["uri"] for i in data["interactions"]]
    assert uris == [
        f"{fake_api.url}/items?sort=id&per_page=2",
        f"{fake_api.url}/items?page=2&per_page=2",
        f"{fake_api.url}/items?page=3&per_page=2",
    ]
    assert data["metadata"]["nango_scripts"]["connection_id"] == "c1"
    assert data["metadata"]["nango_scripts"]["credentials"] == {
        "type": "API_KEY",
        "apiKey": "<<apiKey>>",
    }


def test_run_script_from_cassette_needs_no_connection_and_loads_fresh(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    fake_api.stop()
    (tmp_path / "state").rename(tmp_path / "gone")  # no database, no stored connection
    run = asyncio.run(run_script_from_cassette(root, "items"))
    assert run.result.success, run.result.error
    assert run.outputs == json.loads((root / "paged/tests/snapshots/items.json").read_text())
    assert run.result.connection_id == "c1"

    # an edit to the script shows at the next call: the project is loaded afresh
    script = root / "paged" / "syncs" / "items.py"
    script.write_text(
        script.read_text().replace("batch_save(page, Item)", "batch_save(page[:1], Item)")
    )
    edited = asyncio.run(run_script_from_cassette(root, "items", integration="paged"))
    assert [r["id"] for r in edited.outputs["models"]["Item"]["saved"]] == ["0", "2", "4"]


def test_a_request_not_in_the_cassette_names_it_and_how_to_re_record(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    url = fake_api.url
    fake_api.stop()
    script = root / "paged" / "syncs" / "items.py"
    script.write_text(script.read_text().replace('"sort": "id"', '"sort": "name"'))
    with pytest.raises(CassetteError) as caught:
        asyncio.run(run_script_from_cassette(root, "items"))
    message = str(caught.value)
    assert f"GET {url}/items?sort=name&per_page=2 is not in the cassette" in message
    assert "differs in query" in message
    assert "nango-scripts dryrun items CONNECTION_ID --save-responses" in message
    assert caught.value.exit_code == 1


def test_replay_cli_reports_a_missing_request_as_one_paragraph(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    url = fake_api.url
    fake_api.stop()
    script = root / "paged" / "syncs" / "items.py"
    script.write_text(script.read_text().replace('"/items"', '"/things"'))
    result = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay")
    assert result.exit_code == 1
    assert f"Error: GET {url}/things?sort=id&per_page=2 is not in the cassette" in result.stderr
    assert "--save-responses" in result.stderr
    assert "Traceback" not in result.output


def test_a_page_asked_for_more_often_than_recorded_is_a_cassette_error(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    url = fake_api.url
    fake_api.stop()
    script = root / "paged" / "syncs" / "items.py"
    script.write_text(
        script.read_text().replace(
            '    nango.log("done")',
            '    await nango.get("/items?page=2&per_page=2")\n    nango.log("done")',
        )
    )
    result = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay")
    assert result.exit_code == 1
    assert f"GET {url}/items?page=2&per_page=2 is not in the cassette" in result.stderr
    assert "made more often than during the recording" in result.stderr


def test_replay_without_a_cassette_says_how_to_record_one(
    project: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, _ = project
    result = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay")
    assert result.exit_code == 1
    assert str(cassette_path(root, "paged", "items")) in result.stderr
    assert "nango-scripts dryrun items CONNECTION_ID --save-responses" in result.stderr


def test_save_responses_and_replay_together_is_bad_usage(
    project: tuple[Path, dict[str, str]],
) -> None:
    _, env = project
    result = invoke(env, "dryrun", "items", "c1", "--save-responses", "--replay")
    assert result.exit_code == 2
    assert "cannot be used together" in result.output


def test_a_failed_run_saves_nothing_and_keeps_the_previous_files(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    before = {p: p.read_bytes() for p in root.glob("paged/tests/*/*")}
    fake_api.route("/items", lambda r: (403, {}, {"message": "no more"}))
    result = invoke(env, "dryrun", "items", "c1", "--save-responses")
    assert result.exit_code == 1
    assert "Responses not saved: the run failed" in result.stderr
    assert {p: p.read_bytes() for p in root.glob("paged/tests/*/*")} == before
    assert not list(root.glob("paged/tests/cassettes/.*"))


def test_recording_warns_when_the_replay_would_differ(
    project: tuple[Path, dict[str, str]],
) -> None:
    root, env = project
    script = root / "paged" / "syncs" / "items.py"
    script.write_text(
        script.read_text().replace(
            'params={"sort": "id"}', 'params={"sort": "id", "t": str(__import__("time").time_ns())}'
        )
    )
    result = invoke(env, "dryrun", "items", "c1", "--save-responses")
    assert result.exit_code == 0, result.output
    assert "Warning: replaying the new cassette does not give the same outputs" in result.stderr
    assert "is not in the cassette" in result.stderr


def test_replay_runs_with_any_connection_id_and_no_database(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    recorded = invoke(env, "dryrun", "me", "c1", "--save-responses", "--json")
    assert recorded.exit_code == 0, recorded.output
    fake_api.stop()
    replayed = invoke(offline_env(root, tmp_path), "dryrun", "me", "c9", "--replay", "--json")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["output"] == {"user": "<<username>>", "plan": "pro"}
    assert SECRETS["username"] not in replayed.output


PLAN_ACTION = """
from pydantic import BaseModel

from nango_scripts import NangoAction, action


class Ask(BaseModel):
    name: str


@action(input=Ask)
async def plan(nango: NangoAction, input: Ask) -> dict:
    return (await nango.get("/me", params={"name": input.name})).json()
"""


def test_replay_uses_the_recorded_input_unless_another_is_given(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    (root / "basicauth" / "actions" / "plan.py").write_text(PLAN_ACTION)
    recorded = invoke(env, "dryrun", "plan", "c1", "--input", '{"name": "ada"}', "--save-responses")
    assert recorded.exit_code == 0, recorded.output
    assert fake_api.requests_to("/me")[0].query == {"name": "ada"}
    url = fake_api.url
    fake_api.stop()
    offline = offline_env(root, tmp_path)
    same = invoke(offline, "dryrun", "plan", "c1", "--replay", "--json")
    assert same.exit_code == 0, same.output
    assert json.loads(same.stdout)["output"] == {"user": "<<username>>", "plan": "pro"}
    other = invoke(offline, "dryrun", "plan", "c1", "--replay", "--input", '{"name": "bob"}')
    assert other.exit_code == 1
    assert f"GET {url}/me?name=bob is not in the cassette" in other.stderr


PROBE_ACTION = """
import httpx

from nango_scripts import NangoAction, action


@action()
async def probe(nango: NangoAction) -> dict:
    await nango.get("/me")
    handler = httpx.AsyncHTTPTransport.handle_async_request
    return {"transport": f"{handler.__module__}.{handler.__qualname__}"}
"""


def test_cassettes_patch_nothing_in_the_process(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    """The script's client talks to the cassette through its own transport: other
    clients of the process (a running ``dev`` service, say) are never captured."""
    root, env = project
    (root / "basicauth" / "actions" / "probe.py").write_text(PROBE_ACTION)
    untouched = {"transport": "httpx._transports.default.AsyncHTTPTransport.handle_async_request"}
    recorded = invoke(env, "dryrun", "probe", "c1", "--save-responses", "--json")
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.stdout)["output"] == untouched
    fake_api.stop()
    replayed = invoke(offline_env(root, tmp_path), "dryrun", "probe", "c1", "--replay", "--json")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["output"] == untouched


@pytest.mark.parametrize("text", ["{{{ not yaml", "", "just: a mapping\n"])
def test_an_unreadable_cassette_is_a_clear_error(
    project: tuple[Path, dict[str, str]], tmp_path: Path, text: str
) -> None:
    root, _ = project
    cassette = cassette_path(root, "paged", "items")
    cassette.parent.mkdir(parents=True)
    cassette.write_text(text)
    result = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay")
    assert result.exit_code == 1
    assert f"Error: cannot read the cassette {cassette}" in result.stderr
    assert "nango-scripts dryrun items CONNECTION_ID --save-responses" in result.stderr
    assert "Traceback" not in result.output


def _drop_interactions_after(cassette: Path, keep: int) -> None:
    data = yaml.safe_load(cassette.read_text())
    data["interactions"] = data["interactions"][:keep]
    cassette.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_page_read_ahead_that_the_script_never_wants_need_not_be_in_the_cassette(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    """paginate asks for the next GET page before the script wants it; a cassette recorded
    without that request (a script that stops early, an older cassette) still replays."""
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    fake_api.stop()
    _drop_interactions_after(root / "paged" / "tests" / "cassettes" / "items.yaml", 1)
    script = root / "paged" / "syncs" / "items.py"
    script.write_text(
        script.read_text().replace(
            "        await nango.batch_save(page, Item)\n",
            "        await nango.batch_save(page, Item)\n        break\n",
        )
    )
    result = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["models"]["Item"]["saved"]) == 2


def test_a_page_the_script_wants_is_a_miss_even_when_it_was_read_ahead(
    project: tuple[Path, dict[str, str]], fake_api: FakeApi, tmp_path: Path
) -> None:
    root, env = project
    assert invoke(env, "dryrun", "items", "c1", "--save-responses").exit_code == 0
    url = fake_api.url
    fake_api.stop()
    _drop_interactions_after(root / "paged" / "tests" / "cassettes" / "items.yaml", 1)
    result = invoke(offline_env(root, tmp_path), "dryrun", "items", "c1", "--replay")
    assert result.exit_code == 1
    assert f"GET {url}/items?page=2&per_page=2 is not in the cassette" in result.stderr
