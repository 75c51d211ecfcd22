"""``nango-scripts connections``: through click's CliRunner, and as the real console script."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest
from click.testing import CliRunner, Result

import nango_scripts.cli.connections as connections_cli
from nango_scripts.cli.main import cli
from nango_scripts.providers import ProviderConfig
from nango_scripts.settings import Settings

KEY_B64 = base64.b64encode(bytes(range(32))).decode()
CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"

PLANTED = {
    "github": {
        "type": "OAUTH2",
        "access_token": "gho_PLANTED_ACCESS",
        "refresh_token": "ghr_PLANTED_REFRESH",
        "expires_at": "2030-01-01T00:00:00Z",
        "client_secret": "PLANTED_CLIENT_SECRET",
    },
    "stripe": {"type": "API_KEY", "apiKey": "sk_live_PLANTED_KEY"},
    "jira": {"type": "BASIC", "username": "PLANTED_USER", "password": "PLANTED_PASSWORD"},
    "billing": {"type": "OAUTH2_CC", "client_id": "PLANTED_ID", "client_secret": "PLANTED_CC"},
}
SECRETS = ["PLANTED", "gho_", "ghr_", "sk_live"]

INTEGRATIONS = MappingProxyType(
    {
        "github": ProviderConfig(name="github", base_url="https://api.github.com", auth="oauth2"),
        "stripe": ProviderConfig(name="stripe", base_url="https://api.stripe.com", auth="api_key"),
        "jira": ProviderConfig(name="jira", base_url="https://jira.example", auth="basic"),
        "billing": ProviderConfig(name="billing", base_url="https://b.example", auth="oauth2_cc"),
        "public": ProviderConfig(name="public", base_url="https://p.example", auth="none"),
    }
)


class Project:
    """A tmp project whose settings are built directly; ``loaded`` records load_settings calls."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.encryption_key: str | None = KEY_B64
        self.loaded: list[str | None] = []

    def load_settings(self, project_dir: str | None = None) -> Settings:
        self.loaded.append(project_dir)
        root = Path(project_dir) if project_dir else self.root
        return Settings(
            project_dir=root,
            database_url=f"sqlite:///{root}/.nango/nango.db",
            integrations=INTEGRATIONS,
            encryption_key=self.encryption_key,
        )

    def run(self, *args: str, input: str | None = None, **env: str) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, ["--project", str(self.root), "connections", *args], input=input, env=env
        )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in ("NANGO_SCRIPTS_PROJECT", "NANGO_ENCRYPTION_KEY", "NANGO_SCRIPTS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "nango.toml").write_text("", encoding="utf-8")
    made = Project(tmp_path)
    monkeypatch.setattr(connections_cli, "load_settings", made.load_settings)
    return made


def _create_planted(project: Project) -> None:
    for integration, credentials in PLANTED.items():
        result = project.run(
            "create", integration, f"{integration}-1", "--credentials", json.dumps(credentials)
        )
        assert result.exit_code == 0, result.output
    result = project.run(
        "create", "public", "open", "--credentials", "{}", "--metadata", '{"org": "acme", "n": 1}'
    )
    assert result.exit_code == 0, result.output


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# -- create ----------------------------------------------------------------------------


def test_create_then_list_shows_no_secret(project: Project) -> None:
    result = project.run("create", "github", "c1", "--credentials", json.dumps(PLANTED["github"]))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created connection 'c1' of integration 'github' (OAUTH2).\n"
    assert project.loaded == [str(project.root)]
    _assert_no_secret(result.output)


def test_list_table_never_prints_a_secret(project: Project) -> None:
    _create_planted(project)
    result = project.run("list")
    assert result.exit_code == 0, result.output
    _assert_no_secret(result.output)
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "INTEGRATION",
        "CONNECTION",
        "ID",
        "AUTH",
        "CREATED",
        "METADATA",
        "KEYS",
    ]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert set(rows) == {"billing-1", "github-1", "jira-1", "stripe-1", "open"}
    assert rows["github-1"][:3] == ["github", "github-1", "OAUTH2"]
    assert rows["stripe-1"][2] == "API_KEY"
    assert rows["open"][2] == "NONE"
    assert rows["open"][-2:] == ["org,", "n"]
    assert rows["jira-1"][-1] == "-"
    assert lines[1].startswith("billing ")  # sorted by integration


def test_list_json_never_prints_a_secret(project: Project) -> None:
    _create_planted(project)
    result = project.run("list", "--json")
    assert result.exit_code == 0, result.output
    _assert_no_secret(result.output)
    items = {item["connection_id"]: item for item in json.loads(result.stdout)["connections"]}
    assert items["github-1"] == {
        "integration_id": "github",
        "connection_id": "github-1",
        "environment": "dev",
        "auth_type": "OAUTH2",
        "expires_at": "2030-01-01T00:00:00+00:00",
        "metadata": {},
        "created_at": items["github-1"]["created_at"],
        "updated_at": items["github-1"]["updated_at"],
    }
    assert "expires_at" not in items["stripe-1"] and "credentials" not in items["stripe-1"]
    assert items["open"]["metadata"] == {"org": "acme", "n": 1}
    assert items["billing-1"]["auth_type"] == "OAUTH2_CC"


def test_list_filters_by_integration(project: Project) -> None:
    _create_planted(project)
    result = project.run("list", "--integration", "stripe", "--json")
    assert [c["connection_id"] for c in json.loads(result.stdout)["connections"]] == ["stripe-1"]
    empty = project.run("list", "--integration", "nope")
    assert (empty.exit_code, empty.stdout) == (0, "No connections for integration 'nope'.\n")


def test_list_of_an_empty_project(project: Project) -> None:
    result = project.run("list")
    assert (result.exit_code, result.stdout) == (0, "No connections.\n")
    assert json.loads(project.run("list", "--json").stdout) == {"connections": []}


def test_credentials_and_metadata_from_files_and_stdin(project: Project) -> None:
    creds = project.root / "creds.json"
    creds.write_text(json.dumps(PLANTED["stripe"]))
    meta = project.root / "meta.json"
    meta.write_text('{"account": "acct_1"}')
    result = project.run(
        "create", "stripe", "s1", "--credentials", f"@{creds}", "--metadata", f"@{meta}"
    )
    assert result.exit_code == 0, result.output
    result = project.run(
        "create", "jira", "j1", "--credentials", "@-", input=json.dumps(PLANTED["jira"])
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(project.run("list", "--json").stdout)["connections"]
    assert [(c["connection_id"], c["auth_type"], c["metadata"]) for c in listed] == [
        ("j1", "BASIC", {}),
        ("s1", "API_KEY", {"account": "acct_1"}),
    ]


def test_bad_json_is_a_usage_error_with_the_position(project: Project) -> None:
    result = project.run(
        "create",
        "stripe",
        "s1",
        "--credentials",
        '{"type": "API_KEY", "apiKey": "sk_live_PLANTED_KEY",}',
    )
    assert result.exit_code == 2
    assert "Invalid value for '--credentials'" in result.stderr
    assert "not valid JSON: Expecting property name enclosed in double quotes" in result.stderr
    assert "line 1, column 53 (character 53)" in result.stderr
    _assert_no_secret(result.output)


def test_bad_json_in_a_file_names_the_file_and_line(project: Project) -> None:
    path = project.root / "creds.json"
    path.write_text('{\n  "type": "API_KEY"\n  "apiKey": "x"\n}')
    result = project.run("create", "stripe", "s1", "--credentials", f"@{path}")
    assert result.exit_code == 2
    assert (
        f"file {path} is not valid JSON: Expecting ',' delimiter at line 3, column 3"
        in result.stderr
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--credentials", '["API_KEY"]', "must be a JSON object ({...}), not an array"),
        ("--metadata", '"acme"', "must be a JSON object ({...}), not a string"),
        ("--credentials", "@/nonexistent/creds.json", "cannot read file /nonexistent/creds.json"),
    ],
)
def test_json_options_must_be_objects(
    project: Project, option: str, value: str, message: str
) -> None:
    args = ["create", "public", "p1", "--credentials", "{}", option, value]
    result = project.run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_import_applies_the_limits_of_the_api(project: Project) -> None:
    """Nesting, size and text: what the service could not read back is refused here too."""
    deep = "[" * 300 + "]" * 300
    cases = [
        ("--metadata", '{"a": ' + deep + "}", "The connection metadata nests deeper than 64"),
        ("--metadata", "[" * 100_000 + "]" * 100_000, "nests deeper than 64 levels"),
        ("--metadata", '{"a": "\\ud800"}', "The connection metadata contains a lone surrogate"),
        ("--metadata", json.dumps({"a": "x" * (1024 * 1024)}), "over the limit of 1 MiB"),
    ]
    for option, value, message in cases:
        result = project.run("create", "public", "p1", "--credentials", "{}", option, value)
        assert result.exit_code == 2, result.output
        assert message in result.stderr and "Traceback" not in result.output
    raw = '{"type": "OAUTH2", "access_token": "t", "raw": {"a": ' + deep + "}}"
    result = project.run("create", "github", "g1", "--credentials", raw)
    assert result.exit_code == 2
    assert "The credentials object nests deeper than 64 levels" in result.stderr
    secret = '{"type": "API_KEY", "apiKey": "sk_live_PLANTED_KEY\\ud800"}'
    result = project.run("create", "stripe", "s1", "--credentials", secret)
    assert result.exit_code == 2
    assert "The credentials object contains a lone surrogate" in result.stderr
    _assert_no_secret(result.output)
    assert json.loads(project.run("list", "--json").stdout)["connections"] == []


def test_malformed_credentials_name_the_field(project: Project) -> None:
    result = project.run(
        "create",
        "stripe",
        "s1",
        "--credentials",
        '{"type": "API_KEY", "key": "sk_live_PLANTED_KEY"}',
    )
    assert result.exit_code == 2  # bad usage (SPEC 5)
    assert result.stderr.startswith(
        'Error: Credentials field "key" is not part of API_KEY credentials'
    )
    assert 'Expected: {"type": "API_KEY", "apiKey": "<key>"}' in result.stderr
    assert "Traceback" not in result.output
    _assert_no_secret(result.output)


def test_credentials_that_would_break_a_header_are_refused_unquoted(project: Project) -> None:
    result = project.run(
        "create",
        "stripe",
        "s1",
        "--credentials",
        json.dumps({"type": "API_KEY", "apiKey": "sk_live_PLANTED_KEY\nX-Injected: 1"}),
    )
    assert result.exit_code == 2  # bad usage (SPEC 5)
    assert 'Credentials field "apiKey" holds a control character (U+000A)' in result.stderr
    assert "Injected" not in result.output
    _assert_no_secret(result.output)
    assert json.loads(project.run("list", "--json").stdout)["connections"] == []


def test_credentials_must_match_the_integration_auth(project: Project) -> None:
    result = project.run("create", "github", "c1", "--credentials", json.dumps(PLANTED["stripe"]))
    assert result.exit_code == 2  # bad usage (SPEC 5)
    assert 'uses auth = "oauth2", so its connections need OAUTH2 credentials' in result.stderr


def test_unknown_integration_is_a_usage_error(project: Project) -> None:
    result = project.run("create", "gitlab", "c1", "--credentials", "{}")
    assert result.exit_code == 2
    assert "Error: Integration 'gitlab' is not configured in nango.toml" in result.stderr
    assert "[integrations.gitlab]" in result.stderr


def test_duplicate(project: Project) -> None:
    args = ("create", "stripe", "s1", "--credentials", json.dumps(PLANTED["stripe"]))
    assert project.run(*args).exit_code == 0
    result = project.run(*args)
    assert result.exit_code == 2  # bad usage (SPEC 5)
    assert "Error: Connection 's1' of integration 'stripe' already exists" in result.stderr
    assert "nango-scripts connections delete stripe s1 --yes" in result.stderr


def test_debug_shows_the_traceback(project: Project) -> None:
    args = ["create", "stripe", "s1", "--credentials", json.dumps(PLANTED["stripe"])]
    assert project.run(*args).exit_code == 0
    result = CliRunner().invoke(
        cli, ["--debug", "--project", str(project.root), "connections", *args]
    )
    assert result.exit_code == 2  # bad usage (SPEC 5)
    assert "Traceback (most recent call last)" in result.stderr
    assert "already exists" in result.stderr


def test_project_comes_from_the_environment(project: Project) -> None:
    result = CliRunner().invoke(
        cli, ["connections", "list"], env={"NANGO_SCRIPTS_PROJECT": str(project.root)}
    )
    assert result.exit_code == 0, result.output
    assert project.loaded == [str(project.root)]


def test_first_create_warns_about_the_generated_key(project: Project) -> None:
    project.encryption_key = None
    key_file = project.root / ".nango" / "encryption.key"
    result = project.run("list")
    assert result.stderr == "" and not key_file.exists()  # listing needs no key
    result = project.run("create", "public", "p1", "--credentials", "{}")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: NANGO_ENCRYPTION_KEY is not set: created encryption key at {key_file}; set"
        " NANGO_ENCRYPTION_KEY in production (and keep this file: without it the stored"
        " credentials cannot be decrypted).\n"
    )
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = project.run("create", "public", "p2", "--credentials", "{}")
    assert again.exit_code == 0 and again.stderr == ""


def test_bad_encryption_key_is_a_usage_error(project: Project) -> None:
    project.encryption_key = "too-short"
    result = project.run("create", "public", "p1", "--credentials", "{}")
    assert result.exit_code == 2
    assert "Error: The encryption key in NANGO_ENCRYPTION_KEY" in result.stderr
    assert "base64.b64encode(os.urandom(32))" in result.stderr
    assert "too-short" not in result.stderr


# -- delete ----------------------------------------------------------------------------


def _ids(project: Project) -> list[str]:
    return [
        c["connection_id"] for c in json.loads(project.run("list", "--json").stdout)["connections"]
    ]


def test_delete_with_yes(project: Project) -> None:
    _create_planted(project)
    result = project.run("delete", "stripe", "stripe-1", "--yes")
    assert (result.exit_code, result.stdout) == (
        0,
        "Deleted connection 'stripe-1' of integration 'stripe'.\n",
    )
    assert "stripe-1" not in _ids(project) and "github-1" in _ids(project)


def test_delete_without_yes_when_not_interactive_is_refused(project: Project) -> None:
    _create_planted(project)
    result = project.run("delete", "stripe", "stripe-1")
    assert result.exit_code == 2
    assert "Refusing to delete without confirmation: pass --yes." in result.stderr
    assert "stripe-1" in _ids(project)


@pytest.mark.parametrize(("answer", "deleted", "code"), [("y\n", True, 0), ("n\n", False, 1)])
def test_delete_asks_when_interactive(
    project: Project, monkeypatch: pytest.MonkeyPatch, answer: str, deleted: bool, code: int
) -> None:
    _create_planted(project)
    monkeypatch.setattr(connections_cli, "_interactive", lambda: True)
    result = project.run("delete", "stripe", "stripe-1", input=answer)
    assert result.exit_code == code
    assert (
        "Delete connection 'stripe-1' of integration 'stripe' and its credentials?" in result.output
    )
    assert ("stripe-1" not in _ids(project)) is deleted


def test_delete_unknown_connection(project: Project) -> None:
    _create_planted(project)
    result = project.run("delete", "github", "nope", "--yes")
    assert result.exit_code == 2
    assert "Error: No connection 'nope' for integration 'github'" in result.stderr
    assert "Connections of github: github-1." in result.stderr


# -- the real console script -----------------------------------------------------------


def _console(
    project: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO")}
    env["NANGO_SCRIPTS_PROJECT"] = str(project)
    return subprocess.run(
        [str(CONSOLE_SCRIPT), "connections", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def real_project(tmp_path: Path) -> Path:
    (tmp_path / "nango.toml").write_text(
        '[integrations.github]\nprovider = "github"\nauth = "oauth2"\n'
    )
    return tmp_path


def test_console_script_round_trip(real_project: Path) -> None:
    created = _console(
        real_project,
        "create",
        "github",
        "acme",
        "--credentials",
        "@-",
        "--metadata",
        '{"org": "acme"}',
        stdin=json.dumps(PLANTED["github"]),
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "Created connection 'acme' of integration 'github' (OAUTH2).\n"
    key_file = real_project / ".nango" / "encryption.key"
    assert (
        f"Warning: NANGO_ENCRYPTION_KEY is not set: created encryption key at {key_file}"
        in created.stderr
    )
    assert "set NANGO_ENCRYPTION_KEY in production" in created.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    table = _console(real_project, "list")
    as_json = _console(real_project, "list", "--json")
    assert table.returncode == as_json.returncode == 0
    assert table.stdout.splitlines()[1].split()[:3] == ["github", "acme", "OAUTH2"]
    [item] = json.loads(as_json.stdout)["connections"]
    assert (item["connection_id"], item["expires_at"]) == ("acme", "2030-01-01T00:00:00+00:00")
    for done in (created, table, as_json):
        _assert_no_secret(done.stdout + done.stderr)

    database = real_project / ".nango" / "nango.db"
    with sqlite3.connect(database) as db:
        [(token,)] = db.execute("SELECT credentials FROM connections").fetchall()
    assert token.startswith("v1:")
    raw = b"".join(p.read_bytes() for p in database.parent.glob("nango.db*"))
    assert b"PLANTED" not in raw and b"gho_" not in raw

    refused = _console(real_project, "delete", "github", "acme", stdin="")
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    deleted = _console(real_project, "delete", "github", "acme", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert _console(real_project, "list").stdout == "No connections.\n"


def test_console_script_errors_are_one_paragraph(real_project: Path) -> None:
    bad = _console(real_project, "create", "github", "acme", "--credentials", '{"type": "OAUTH2"}')
    assert bad.returncode == 2  # bad usage (SPEC 5)
    assert bad.stderr.startswith('Error: Credentials field "access_token" is missing for OAUTH2')
    assert "Traceback" not in bad.stderr
    unknown = _console(real_project, "create", "slack", "acme", "--credentials", "{}")
    assert unknown.returncode == 2
    assert (
        "Integration 'slack' is not configured in nango.toml (configured: github)" in unknown.stderr
    )
