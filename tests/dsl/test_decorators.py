"""``@sync`` / ``@action``: the specs they build, and every misuse caught at import time.

Each case is a real module file imported from ``tmp_path``, as the loader would; an error
must name the file and line of the definition, the function and the fix.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import textwrap
import types
from pathlib import Path

import pytest

from nango_scripts.dsl import ActionSpec, SyncSpec, action, sync
from nango_scripts.errors import ScriptDefinitionError

HEADER = """\
from pydantic import BaseModel
from nango_scripts.dsl import action, sync

class Issue(BaseModel):
    id: str
    title: str = ""

class User(BaseModel):
    id: int

class NewIssue(BaseModel):
    title: str

class Meta(BaseModel):
    repo: str
"""

_counter = itertools.count()


def load(tmp_path: Path, source: str) -> types.ModuleType:
    """Import ``HEADER + source`` as a fresh module file (``scripts.py``)."""
    file = tmp_path / "scripts.py"
    file.write_text(HEADER + textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"decorator_case_{next(_counter)}", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def misuse(tmp_path: Path, source: str, function: str, fix: str, *, line: int = 0) -> str:
    """Import ``source``, expect a ScriptDefinitionError; return its text after the checks.

    The error must point at ``line`` of ``source`` (default: its first definition).
    """
    with pytest.raises(ScriptDefinitionError) as info:
        load(tmp_path, source)
    text = str(info.value)
    if not line:
        lines = textwrap.dedent(source).splitlines()
        line = next(n for n, src in enumerate(lines, 1) if src.startswith(("@", "def ", "async")))
    assert f"scripts.py:{HEADER.count(chr(10)) + line}, " in text, text
    assert function in text, text
    assert fix in text, text
    return text


# --------------------------------------------------------------------------- accepted


def test_sync_builds_a_frozen_spec(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        @sync(
            models=[Issue, User],
            frequency="every 30 minutes",
            sync_type="full",
            track_deletes=True,
            auto_start=False,
            metadata=Meta,
            scopes=["repo"],
            description="All issues",
            version="1.2.3",
        )
        async def issues(nango) -> None:
            pass
        """,
    )
    spec = module.issues
    assert isinstance(spec, SyncSpec)
    assert spec.name == "issues"
    assert spec.integration is None
    assert spec.models == (module.Issue, module.User)
    assert spec.model("User") is module.User
    assert spec.model("Nope") is None
    assert (spec.frequency, spec.frequency_seconds) == ("every 30 minutes", 1800)
    assert (spec.sync_type, spec.track_deletes, spec.auto_start) == ("full", True, False)
    assert spec.metadata is module.Meta
    assert spec.scopes == ("repo",)
    assert (spec.description, spec.version) == ("All issues", "1.2.3")
    assert spec.is_async is True
    assert spec.source_file == tmp_path / "scripts.py"
    assert spec.line == HEADER.count("\n") + 2
    assert spec.kind == "sync"


def test_sync_defaults(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour")
        def issues(nango):
            return "ran"
        """,
    ).issues
    assert (spec.sync_type, spec.track_deletes, spec.auto_start) == ("incremental", False, True)
    assert (spec.metadata, spec.scopes, spec.description, spec.version) == (None, (), "", "0.0.1")


def test_plain_def_and_async_def_are_both_accepted(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour")
        def blocking(nango):
            return ("blocking", nango)

        @sync(models=[Issue], frequency="every hour")
        async def non_blocking(nango):
            return ("async", nango)

        @action()
        def ping(nango):
            return "pong"

        @action(input=NewIssue, output=Issue)
        async def create(nango, input):
            return Issue(id="1", title=input.title)
        """,
    )
    assert module.blocking.is_async is False
    assert module.blocking("ctx") == ("blocking", "ctx")  # calling the spec calls the function
    assert module.non_blocking.is_async is True
    assert inspect.iscoroutinefunction(module.non_blocking.func)
    assert module.ping.is_async is False
    assert module.ping("ctx") == "pong"
    assert module.create.is_async is True


def test_action_builds_a_spec(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        @action(input=NewIssue, output=Issue, scopes=("repo",), description="Create", version="2.0.0-beta.1")
        async def create_issue(nango, input: NewIssue) -> Issue:
            return Issue(id="1", title=input.title)

        @action(output=Issue)
        async def latest(nango) -> Issue:
            return Issue(id="1")
        """,
    )
    spec = module.create_issue
    assert isinstance(spec, ActionSpec)
    assert (spec.name, spec.kind, spec.integration) == ("create_issue", "action", None)
    assert (spec.input, spec.output) == (module.NewIssue, module.Issue)
    assert spec.takes_input is True
    assert (spec.scopes, spec.description, spec.version) == (("repo",), "Create", "2.0.0-beta.1")
    assert module.latest.takes_input is False
    assert module.latest.input is None


def test_name_and_integration_override(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour", name="github-issues", integration="github")
        async def issues(nango):
            pass

        @action(name="create-issue", integration="github")
        async def create(nango):
            pass
        """,
    )
    assert (module.issues.name, module.issues.integration) == ("github-issues", "github")
    assert (module.create.name, module.create.integration) == ("create-issue", "github")


def test_id_may_be_int_or_a_union_of_str_and_int(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        class Either(BaseModel):
            id: str | int

        @sync(models=[User, Either], frequency="every hour")
        async def people(nango):
            pass
        """,
    )
    assert module.people.models == (module.User, module.Either)


def test_the_same_definition_executed_again_is_not_a_duplicate(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        for _ in range(2):
            @sync(models=[Issue], frequency="every hour")
            async def issues(nango):
                pass
        """,
    )
    assert module.issues.name == "issues"


# --------------------------------------------------------------------------- models


def test_model_without_id(tmp_path: Path) -> None:
    text = misuse(
        tmp_path,
        """
        @sync(models=[NewIssue], frequency="every hour")
        async def issues(nango):
            pass
        """,
        'sync "issues"',
        'Add "id: str" (or int) to NewIssue.',
    )
    assert 'model NewIssue has no "id" field' in text


@pytest.mark.parametrize("annotation", ["float", "str | None", "list[str]", "bool"])
def test_id_of_the_wrong_type(tmp_path: Path, annotation: str) -> None:
    misuse(
        tmp_path,
        f"""
        class Odd(BaseModel):
            id: {annotation}

        @sync(models=[Odd], frequency="every hour")
        async def odd(nango):
            pass
        """,
        'sync "odd"',
        'Declare it as "id: str" (or int) in Odd.',
    )


@pytest.mark.parametrize(
    ("models", "problem", "fix"),
    [
        ("[]", "models is empty", "models=[Issue]"),
        (
            "Issue",
            "models must be a list of Pydantic models, not the class Issue",
            "models=[Issue]",
        ),
        (
            "[Issue, dict]",
            "models holds the class dict, which is not a Pydantic model",
            "pydantic.BaseModel",
        ),
        ('["Issue"]', "models holds 'Issue' (str)", "pydantic.BaseModel"),
        ("None", "models= is missing", "models=[Issue]"),
    ],
)
def test_bad_models(tmp_path: Path, models: str, problem: str, fix: str) -> None:
    text = misuse(
        tmp_path,
        f"""
        @sync(models={models}, frequency="every hour")
        async def issues(nango):
            pass
        """,
        'sync "issues"',
        fix,
    )
    assert problem in text


def test_two_models_with_the_same_class_name(tmp_path: Path) -> None:
    text = misuse(
        tmp_path,
        """
        First = Issue
        class Issue(BaseModel):
            id: str

        @sync(models=[First, Issue], frequency="every hour")
        async def issues(nango):
            pass
        """,
        'sync "issues"',
        "Rename one of the classes.",
    )
    assert "two models are called Issue" in text


@pytest.mark.parametrize("what", ["metadata", "input", "output"])
def test_metadata_input_output_must_be_models(tmp_path: Path, what: str) -> None:
    if what == "metadata":
        source = """
        @sync(models=[Issue], frequency="every hour", metadata=dict)
        async def issues(nango):
            pass
        """
        function = 'sync "issues"'
    else:
        source = f"""
        @action({what}=dict)
        async def create(nango, input=None):
            pass
        """
        function = 'action "create"'
    text = misuse(tmp_path, source, function, "pydantic.BaseModel")
    assert f"{what}= must be a Pydantic model class, not the class dict" in text


# --------------------------------------------------------------------------- sync options


def test_unknown_sync_type_lists_the_valid_ones(tmp_path: Path) -> None:
    text = misuse(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour", sync_type="delta")
        async def issues(nango):
            pass
        """,
        'sync "issues"',
        'sync_type="incremental"',
    )
    assert "unknown sync_type 'delta'" in text
    assert 'sync_type="full"' in text


def test_track_deletes_needs_a_full_sync(tmp_path: Path) -> None:
    misuse(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour", track_deletes=True)
        async def issues(nango):
            pass
        """,
        'sync "issues"',
        'Set sync_type="full", or remove track_deletes=True',
    )


@pytest.mark.parametrize(
    ("frequency", "problem"),
    [
        ('"every blue moon"', '"blue" is not a unit of time'),
        ('"every 10 seconds"', "the shortest allowed is 30 seconds"),
        ("30", "frequency must be a phrase, not 30 (int)"),
        ("None", "frequency= is missing"),
    ],
)
def test_bad_frequency(tmp_path: Path, frequency: str, problem: str) -> None:
    text = misuse(
        tmp_path,
        f"""
        @sync(models=[Issue], frequency={frequency})
        async def issues(nango):
            pass
        """,
        'sync "issues"',
        "every 30 minutes",
    )
    assert problem in text


@pytest.mark.parametrize(
    ("option", "problem", "fix"),
    [
        ('scopes="repo"', "scopes must be a list of strings", "scopes=['repo']"),
        ("scopes=[1]", "scopes must be a list of strings", 'scopes=["repo", "read:user"]'),
        ('version="latest"', "version 'latest' is not a version number", 'version="1.0.0"'),
        ('version="1"', "version '1' is not a version number", 'version="1.0.0"'),
        ("description=3", "description must be a string", 'description="What it does"'),
        ('auto_start="yes"', "auto_start must be True or False", "auto_start=True"),
        ('name="my issues"', "name 'my issues' is not a valid script name", "Use letters"),
        (
            'integration="git hub"',
            "integration 'git hub' is not a valid integration name",
            "Use letters",
        ),
    ],
)
def test_bad_options(tmp_path: Path, option: str, problem: str, fix: str) -> None:
    text = misuse(
        tmp_path,
        f"""
        @sync(models=[Issue], frequency="every hour", {option})
        async def issues(nango):
            pass
        """,
        "issues",
        fix,
    )
    assert problem in text


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    ("signature", "problem"),
    [
        ("()", "it takes 0 parameters (none); it must take one, the context"),
        ("(nango, extra)", "it takes 2 parameters (nango, extra)"),
        ("(nango, *args)", '"*args" is not allowed'),
        ("(nango, **kwargs)", '"**kwargs" is not allowed'),
        ("(nango, *, flag)", 'keyword-only parameter "flag" has no default'),
    ],
)
def test_wrong_sync_signature(tmp_path: Path, signature: str, problem: str) -> None:
    text = misuse(
        tmp_path,
        f"""
        @sync(models=[Issue], frequency="every hour")
        async def issues{signature}:
            pass
        """,
        'sync "issues"',
        "async def issues(nango: NangoSync) -> None",
    )
    assert problem in text


def test_optional_keyword_only_parameter_is_fine(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour")
        def issues(nango, *, page_size=100):
            pass
        """,
    )
    assert module.issues.is_async is False


def test_action_with_input_model_but_no_input_parameter(tmp_path: Path) -> None:
    text = misuse(
        tmp_path,
        """
        @action(input=NewIssue, output=Issue)
        async def create_issue(nango):
            pass
        """,
        'action "create_issue"',
        "async def create_issue(nango: NangoAction, input: NewIssue) -> Issue",
    )
    assert "declares input=NewIssue but has no parameter to receive it" in text


def test_action_with_input_parameter_but_no_input_model(tmp_path: Path) -> None:
    text = misuse(
        tmp_path,
        """
        @action(output=Issue)
        def create_issue(nango, payload):
            pass
        """,
        'action "create_issue"',
        "Add input=<a Pydantic model> to @action(...)",
    )
    assert 'takes a second parameter "payload" but declares no input model' in text
    assert '"def create_issue(nango: NangoAction) -> Issue"' in text


@pytest.mark.parametrize("signature", ["()", "(nango, input, extra)"])
def test_action_with_too_few_or_many_parameters(tmp_path: Path, signature: str) -> None:
    misuse(
        tmp_path,
        f"""
        @action(input=NewIssue)
        async def create_issue{signature}:
            pass
        """,
        'action "create_issue"',
        "async def create_issue(nango: NangoAction, input: NewIssue) -> None",
    )


@pytest.mark.parametrize("body", ["yield 1", "yield"])
@pytest.mark.parametrize("keyword", ["async def", "def"])
def test_generators_are_refused(tmp_path: Path, keyword: str, body: str) -> None:
    misuse(
        tmp_path,
        f"""
        @sync(models=[Issue], frequency="every hour")
        {keyword} issues(nango):
            {body}
        """,
        'sync "issues"',
        "await nango.batch_save(records, Model)",
    )


@pytest.mark.parametrize("decorator", ["sync", "action"])
def test_decorator_without_parentheses(tmp_path: Path, decorator: str) -> None:
    text = misuse(
        tmp_path,
        f"""
        @{decorator}
        async def issues(nango):
            pass
        """,
        f'{decorator} "issues"',
        f"Call it with its settings: @{decorator}(",
    )
    assert "without parentheses" in text


def test_positional_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptDefinitionError) as info:
        load(tmp_path, "sync([Issue])\n")
    assert f"scripts.py:{HEADER.count(chr(10)) + 1}" in str(info.value)
    assert "keyword arguments" in str(info.value)


def test_decorating_something_else_than_a_function(tmp_path: Path) -> None:
    with pytest.raises(ScriptDefinitionError) as info:
        load(
            tmp_path,
            """
            @action()
            class Create:
                pass
            """,
        )
    assert "scripts.py:" in str(info.value)
    assert "@action(...) is applied to the class Create" in str(info.value)
    assert "directly above a def or async def" in str(info.value)


def test_duplicate_name_in_one_module(tmp_path: Path) -> None:
    text = misuse(
        tmp_path,
        """
        @sync(models=[Issue], frequency="every hour")
        async def issues(nango):
            pass

        @action(name="issues")
        async def create(nango):
            pass
        """,
        'action "issues" (function create)',
        'Give one of them another name with name="..."',
        line=6,
    )
    line = HEADER.count("\n") + 2
    assert f'the name "issues" is already used by the script at line {line}' in text


def test_same_function_name_defined_twice(tmp_path: Path) -> None:
    # The second def would silently replace the first in the module.
    with pytest.raises(
        ScriptDefinitionError, match=r'sync "issues": the name "issues" is already used'
    ):
        load(
            tmp_path,
            """
            @sync(models=[Issue], frequency="every hour")
            async def issues(nango):
                pass

            @sync(models=[Issue], frequency="every day")
            async def issues(nango):
                pass
            """,
        )


def test_decorators_work_outside_a_module_file() -> None:
    # No file: the spec has no source_file, and nothing breaks.
    namespace: dict[str, object] = {"action": action}
    exec("@action()\ndef ping(nango):\n    return 'pong'\n", namespace)
    spec = namespace["ping"]
    assert isinstance(spec, ActionSpec)
    assert spec.source_file is None
    assert spec("ctx") == "pong"


def test_sync_used_directly_from_python(tmp_path: Path) -> None:
    from pydantic import BaseModel

    class Row(BaseModel):
        id: int

    async def rows(nango: object) -> None:
        return None

    spec = sync(models=[Row], frequency="every 5m")(rows)
    assert spec.frequency_seconds == 300
    assert spec.source_file == Path(__file__)
