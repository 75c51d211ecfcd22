"""Declared and default endpoints of syncs and actions, and the definition errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from nango_scripts import NangoAction, NangoSync, ScriptDefinitionError, action, sync
from nango_scripts.dsl import BUILT_IN_PREFIXES, Endpoint, built_in_clash, load_project


class Issue(BaseModel):
    id: str


def test_defaults_come_from_the_name() -> None:
    @sync(name="pull-requests", models=[Issue], frequency="every hour")
    async def prs(nango: NangoSync) -> None: ...

    @action(name="create-issue")
    async def create(nango: NangoAction) -> None: ...

    assert prs.endpoints == (Endpoint("GET", "/pull-requests"),)
    assert create.endpoints == (Endpoint("POST", "/create-issue"),)


def test_declared_endpoints_in_each_accepted_shape() -> None:
    @sync(
        models=[Issue],
        frequency="every hour",
        endpoints=[
            {"method": "GET", "path": "/issues", "group": "Issues"},
            "get /github/issues",
            Endpoint("GET", "/v2/issues"),
        ],
    )
    async def issues(nango: NangoSync) -> None: ...

    @action(endpoint={"method": "PATCH", "path": "/issues"})
    async def update(nango: NangoAction) -> None: ...

    assert issues.endpoints == (
        Endpoint("GET", "/issues", "Issues"),
        Endpoint("GET", "/github/issues"),
        Endpoint("GET", "/v2/issues"),
    )
    assert issues.endpoints[0].to_json() == {"method": "GET", "path": "/issues", "group": "Issues"}
    assert update.endpoints == (Endpoint("PATCH", "/issues"),)


@pytest.mark.parametrize(
    ("endpoints", "message"),
    [
        ([{"method": "POST", "path": "/issues"}], "read with GET, not POST"),
        ([{"method": "GET", "path": "issues"}], "is not a path such as /issues"),
        ([{"method": "GET", "path": "/a//b"}], "is not a path"),
        ([{"method": "GET", "path": "/a b"}], "is not a path"),
        ([{"method": "GET", "path": "/records"}], "shadowed by the built-in /records"),
        ([{"method": "GET", "path": "/proxy/x"}], "shadowed by the built-in /proxy"),
        ([{"method": "FETCH", "path": "/x"}], "not one of GET"),
        ([{"method": "GET", "path": "/x", "verb": "GET"}], "unknown endpoint keys"),
        ([], "endpoints is empty"),
        ("GET /issues", "endpoints is a list"),
        (["GET /x", "GET /x"], "declared twice"),
    ],
)
def test_a_bad_sync_endpoint_is_a_definition_error(endpoints: object, message: str) -> None:
    with pytest.raises(ScriptDefinitionError) as raised:

        @sync(models=[Issue], frequency="every hour", endpoints=endpoints)  # type: ignore[arg-type]
        async def issues(nango: NangoSync) -> None: ...

    assert message in str(raised.value)
    assert 'sync "issues"' in str(raised.value) and "endpoints=[" in str(raised.value)


def test_a_default_the_built_in_api_would_shadow_is_left_out() -> None:
    @sync(models=[Issue], frequency="every hour")
    async def records(nango: NangoSync) -> None: ...

    @action()
    async def proxy(nango: NangoAction) -> None: ...

    assert records.endpoints == () and proxy.endpoints == ()


def test_every_prefix_is_its_own_clash() -> None:
    for prefix in BUILT_IN_PREFIXES:
        assert built_in_clash(prefix) == prefix
    assert built_in_clash("/recordsx") is None and built_in_clash("/issues") is None


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


SCRIPT = """
from pydantic import BaseModel
from nango_scripts import NangoSync, sync

class Thing(BaseModel):
    id: str

@sync(name="{name}", models=[Thing], frequency="every hour", endpoints=["GET /things"])
async def run(nango: NangoSync) -> None: ...
"""


def test_two_scripts_of_one_integration_cannot_claim_the_same_endpoint(tmp_path: Path) -> None:
    _write(tmp_path, "acme/syncs/a.py", SCRIPT.format(name="first"))
    _write(tmp_path, "acme/syncs/b.py", SCRIPT.format(name="second"))
    _write(tmp_path, "other/syncs/c.py", SCRIPT.format(name="third"))
    project = load_project(tmp_path)
    assert [(s.integration, s.name) for s in project.scripts] == [
        ("acme", "first"),
        ("other", "third"),
    ]
    [error] = project.errors
    assert "GET /things" in str(error) and '"first"' in str(error) and '"second"' in str(error)
