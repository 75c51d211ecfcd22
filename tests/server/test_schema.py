"""Schemathesis against ``/openapi.json``: generated calls to every route find no 5xx and no
answer that breaks the document (SPEC 6: "never a 500 for bad input").

The app runs in-process (ASGI) over a real database, SQLite and PostgreSQL, with a
project, a connection ``fake``/``c1`` and the fake API on 127.0.0.1, so that calls naming
them reach real code: about half the generated cases have their ids replaced by the known
ones (values the schema allows, so the checks still apply). About a third are then made
hostile the way a probe would: a NUL in a path, query or header value, a lone surrogate
or JSON nested 100 levels deep in the body. Examples per route are bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from support.fakeapi import FakeApi
from support.postgres_schema import BACKENDS, postgres_schema
from support.server_harness import API_KEY, SECRET, _items, make_project

from nango_scripts.engine import Service
from nango_scripts.errors import ConnectionNotFoundError
from nango_scripts.server import create_app
from nango_scripts.settings import load_settings

EXAMPLES = 25
AUTH = {"Authorization": f"Bearer {SECRET}"}
CREDENTIALS = {"type": "API_KEY", "apiKey": API_KEY}

# The values that exist in the database, by the names the routes give them.
KNOWN: dict[str, Any] = {
    "Connection-Id": "c1",
    "Provider-Config-Key": "fake",
    "connection_id": "c1",
    "connectionId": "c1",
    "provider_config_key": "fake",
    "integrationId": "fake",
    "key": "fake",
    "model": "Item",
    "sync_name": "items",
    "action_name": "greet",
}


class Live:
    service: Service
    upstream: str


LIVE = Live()


@pytest.fixture(scope="module")
def fake_upstream() -> Iterator[FakeApi]:
    with FakeApi() as api:
        api.route("/items", _items)
        api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query.get('name')}"}))
        yield api
    assert not api.errors, api.errors


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the project's SQLite file), or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def api_schema(tmp_path: Path, fake_upstream: FakeApi, database_url: str | None) -> Iterator[Any]:
    """The app over a fresh database (per generation mode and backend)."""
    env = make_project(tmp_path, fake_upstream)
    if database_url is not None:
        env["NANGO_SCRIPTS_DATABASE_URL"] = database_url
    loaded = load_settings(env["NANGO_SCRIPTS_PROJECT"], {**env, "NANGO_SECRET_KEY": SECRET})
    service = Service.open(loaded, tick_s=0.05)
    service.connections.create("fake", "c1", CREDENTIALS, {"team": "a"})
    LIVE.service = service
    LIVE.upstream = fake_upstream.url
    app = create_app(service)
    try:
        # The first request starts the app's lifespan (service.start()) in schemathesis'
        # event-loop thread; shutdown_lifespans() (also run by schemathesis' pytest plugin
        # after each test) is the lifespan's end: service.stop().
        yield schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)
    finally:
        shutdown_lifespans()
        service.close()


def _use_known_ids(case: Any, data: st.DataObject) -> None:
    """Point the case at the project's integration, connection, sync, model and action, and
    leave out some optional query parameters (a random cursor or date is a 400 before any
    real work), so that part of the cases reach the stores, the scheduler and the scripts."""
    required = {p.name for p in case.operation.query.items if p.definition.get("required")}
    if isinstance(case.query, dict):
        for name in sorted(case.query):
            optional = name not in required and name not in KNOWN
            if optional and data.draw(st.booleans(), label=f"drop {name}"):
                del case.query[name]
    for container in (case.headers, case.query, case.path_parameters):
        if container is None:
            continue
        for name in list(container):
            if name in KNOWN:
                container[name] = KNOWN[name]
    if case.headers is not None and "Base-Url-Override" in case.headers:
        # the fake API, not a random host name (a DNS look-up per example)
        case.headers["Base-Url-Override"] = LIVE.upstream
    if isinstance(case.query, dict) and "syncs" in case.query:
        case.query["syncs"] = data.draw(st.sampled_from(["items", "*"]), label="syncs")
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name in KNOWN and isinstance(case.body[name], str):
                case.body[name] = KNOWN[name]
        if isinstance(case.body.get("syncs"), list):
            case.body["syncs"] = ["items"]
        if "action_name" in case.body:
            action = data.draw(st.sampled_from(["greet", "ping", "slow"]), label="action")
            case.body["action_name"] = action
            if action == "greet" and data.draw(st.booleans(), label="valid input"):
                case.body["input"] = {"name": "ada", "times": 2}


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _make_hostile(case: Any, data: st.DataObject) -> None:
    """What the probe sent: NUL in an id (path, query, header), a lone surrogate or JSON
    nested deeper than the limit in the body. The door answers 400 before any route."""
    kind = data.draw(st.sampled_from(["nul", "surrogate", "deep"]), label="hostile")
    if kind == "nul":
        places = [
            (container, name)
            for container in (case.path_parameters, case.query, case.headers)
            if isinstance(container, MutableMapping)
            for name, value in container.items()
            if isinstance(value, str) and name.lower() != "authorization"
        ]
        if places:
            container, name = data.draw(st.sampled_from(places), label="NUL in")
            at = data.draw(st.integers(0, len(container[name])), label="NUL at")
            container[name] = container[name][:at] + "\x00" + container[name][at:]
            return
    if isinstance(case.body, dict) and case.body:
        body = dict(case.body)
        name = data.draw(st.sampled_from(sorted(body)), label="hostile field")
        body[name] = _nested(100) if kind == "deep" else "half a pair: \ud83d"
        if kind == "nul":
            body[name] = "c\x00"
        case.body = json.dumps(body).encode()  # escaped: the bytes a client would send


def _ensure_connection() -> None:
    """A generated DELETE may remove c1: put it back for the next cases."""
    try:
        LIVE.service.connections.get_summary("fake", "c1")
    except ConnectionNotFoundError:
        LIVE.service.connections.create("fake", "c1", CREDENTIALS, {"team": "a"})


GENERATED_ACTIONS = frozenset({"/greet", "/ping", "/slow"})
"""The project's actions, each also at its generated endpoint (POST /<action name>)."""


def _documented_5xx(response: Any, case: Any) -> bool:
    """The 5xx that docs/service.md promises: a failed action (500 action_script_failure /
    action_interrupted, the action's own error) and an unreachable API (502)."""
    if response.status_code >= 500:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return False
        if case.path in GENERATED_ACTIONS:  # an action's generated endpoint: as /action/trigger
            return code == "action_script_failure"
        return (case.path, code) in {
            ("/action/trigger", "action_script_failure"),
            ("/action/{action_id}", "action_script_failure"),
            ("/action/{action_id}", "action_interrupted"),
            ("/proxy/{path}", "upstream_unreachable"),
        }
    return False


def _has_input(operation: Any) -> bool:
    return any(
        len(parameters)
        for parameters in (operation.path_parameters, operation.headers, operation.query)
    ) or bool(operation.body)


# Schemathesis' negative-data strategies (4.32) call the `random` module inside strategies,
# which Hypothesis deprecates with a warning; not ours to fix, and harmless here.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_every_answer_fits_the_schema(
    api_schema: Any, mode: GenerationMode, subtests: pytest.Subtests
) -> None:
    """Every operation of the document (one subtest each), EXAMPLES cases each."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 29  # the routes of docs/service.md, at least
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to make invalid
        with subtests.test(operation.label):
            _run_examples(operation, mode)


def _run_examples(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # calls through the app are slow for Hypothesis' taste, and strategies filter
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any, data: st.DataObject) -> None:
        if data.draw(st.booleans(), label="known ids"):
            _use_known_ids(case, data)
        if data.draw(st.integers(0, 2), label="hostile?") == 0:
            _make_hostile(case, data)
        try:
            response = case.call(headers=AUTH, timeout=30)
            checks = [response_schema_conformance, status_code_conformance]
            if not _documented_5xx(response, case):
                checks.append(not_a_server_error)
            case.validate_response(response, checks=checks)
        finally:
            _ensure_connection()

    check()
