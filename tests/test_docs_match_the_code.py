"""The user documentation (README.md, docs/*.md) names only what exists: commands and
their options, the service's routes, environment variables; and it never calls a route
that is served "not served"."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path

import click
import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute

from nango_scripts.cli.main import cli
from nango_scripts.engine import Service
from nango_scripts.server import create_app
from nango_scripts.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OURS = [p for p in PAGES if p.name != "nango-node-client.md"]
"""nango-node-client.md describes Nango's own API and client, not this project's."""

COMMAND = re.compile(r"(?<![\w/-])nango-scripts((?: +(?:[a-z][a-z-]*|--?[a-z][\w-]*))+)")
ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) +(/[^\s`)|,\]]*)")
NOT_SERVED = re.compile(r"not (?:yet )?(?:served|implemented|supported|available)", re.I)
ENV_VAR = re.compile(r"\bNANGO_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _commands(command: click.Command = cli) -> list[click.Command]:
    """The command and every command below it."""
    found = [command]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            found += _commands(sub)
    return found


def _resolve(words: list[str]) -> tuple[click.Command, list[click.Command], list[str]]:
    """The command the words name, the groups on the way, and the words left over."""
    ctx = click.Context(cli)
    command: click.Command = cli
    groups: list[click.Command] = []
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        found = command.get_command(ctx, rest[0])
        if found is None:
            break
        groups.append(command)
        command = found
        rest.pop(0)
    return command, groups, rest


def _mentions() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for match in COMMAND.finditer(_text(page)):
            found.append((page.name, match.group(1).strip()))
    return sorted(set(found))


@pytest.mark.parametrize(("page", "words"), _mentions(), ids=lambda v: str(v))
def test_every_command_in_the_docs_exists_with_its_options(page: str, words: str) -> None:
    tokens = shlex.split(words)
    command, groups, rest = _resolve(tokens)
    if isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        # A group followed by a word it does not know: prose ("nango-scripts and ...")
        # is allowed only right after the program's name.
        assert command is cli, f"{page}: 'nango-scripts {words}': no command {rest[0]!r}"
        return
    if command.context_settings.get("ignore_unknown_options"):
        return  # its options go to another program (`test` passes them to pytest)
    known = {
        option
        for each in [*groups, command]
        for param in each.params
        for option in [*param.opts, *param.secondary_opts]
    } | {"--help", "-h"}
    for token in rest:
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            assert name in known, f"{page}: 'nango-scripts {words}': no option {name}"


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, re.Pattern[str]]]]:
    """Each route of the service: its method and a pattern of its paths."""
    project = tmp_path_factory.mktemp("project")
    settings = load_settings(project, {"NANGO_SECRET_KEY": "sk_docs_0123456789"})
    service = Service.open(settings)
    try:
        yield _routes(create_app(service))
    finally:
        service.close()


def _routes(app: FastAPI) -> list[tuple[str, re.Pattern[str]]]:
    routes = []
    for route in _walk(app.routes):
        path, methods = getattr(route, "path_format", None), getattr(route, "methods", None)
        if path is None or not methods:
            continue
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        for method in methods:
            routes.append((method, re.compile(pattern + "/?")))
    return routes


def _walk(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, those of included routers too."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes)
        else:
            yield route


def _served(method: str, path: str, routes: list[tuple[str, re.Pattern[str]]]) -> bool:
    bare = path.split("?", 1)[0].split("[", 1)[0].rstrip(".")
    return any(m == method and pattern.fullmatch(bare) for m, pattern in routes)


def test_every_route_in_the_service_docs_is_served(
    routes: list[tuple[str, re.Pattern[str]]],
) -> None:
    text = _text(ROOT / "docs" / "service.md")
    generated = {"/<sync", "/<action", "/issues", "/path"}
    """Generated endpoints and placeholders the page uses as examples."""
    missing = [
        f"{method} {path}"
        for method, path in ROUTE.findall(text)
        if path.split("?", 1)[0] not in generated
        and not path.startswith("/proxy/")
        and not _served(method, path, routes)
    ]
    assert missing == []


def test_no_page_says_a_served_route_is_not_served(
    routes: list[tuple[str, re.Pattern[str]]],
) -> None:
    wrong = []
    for page in OURS:
        for paragraph in re.split(r"\n\s*\n|\n- ", _text(page)):
            if NOT_SERVED.search(paragraph):
                for method, path in ROUTE.findall(paragraph):
                    if _served(method, path, routes):
                        wrong.append(f"{page.name}: {method} {path}")
    assert wrong == []


def test_every_environment_variable_in_the_docs_is_read() -> None:
    # read by the package, the tests, or the test set-up (pytest's markers, the CI script)
    files = [
        *(ROOT / "nango_scripts").rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        ROOT / "pyproject.toml",
        ROOT / ".ci" / "run",
    ]
    source = "\n".join(p.read_text(encoding="utf-8") for p in files)
    declared = {
        name
        for command in _commands()
        for param in command.params
        for name in ([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])
    }
    unknown = sorted(
        {
            f"{page.name}: {name}"
            for page in OURS
            for name in ENV_VAR.findall(_text(page))
            if name not in source
            and name not in declared
            and not name.startswith("NANGO_INTEGRATION_")
        }
    )
    assert unknown == []
