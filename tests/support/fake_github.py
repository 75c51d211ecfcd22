"""A local imitation of GitHub's issues API, and the recording of the example's cassette.

The cassette and snapshot that ``nango-scripts init`` ships
(``nango_scripts/scaffold/project/github/tests/``) are a real vcrpy recording: the example
sync run with ``dryrun --save-responses`` against this fake, then the fake's address
replaced by ``https://api.github.com``. To make them again (after changing the example
sync or this fake)::

    .venv/bin/python tests/support/fake_github.py

``test_scaffold_recording.py`` records again into a temporary project and checks that the
shipped files are what this produces.

What the fake imitates: ``GET /user/issues`` (``filter``, ``state``, ``sort=updated``,
``direction``, ``since``, ``per_page``, ``page``) with GitHub's ``Link`` header
(``next``/``last``/``first``/``prev``, absolute URLs), pull requests mixed in,
rate-limit headers, ``Authorization: Bearer`` required; ``POST /repos/acme/app/issues``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from nango_scripts.cli.main import cli  # noqa: E402
from support.fakeapi import FakeApi, Received, Reply  # noqa: E402

TOKEN = "gho_EXAMPLEexampleEXAMPLEexample0000"
SHIPPED = ROOT / "nango_scripts" / "scaffold" / "project" / "github" / "tests"
PUBLIC_URL = "https://api.github.com"
_START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
_REPOS = [("acme", "app", 80211342), ("acme", "api", 80211977), ("octo-org", "docs", 91230051)]
_USERS = [("octocat", 583231), ("hubot", 480938), ("monalisa", 2918581), ("mona-dev", 7251021)]
_LABELS = [
    (1205340116, "bug", "d73a4a"),
    (1205340117, "enhancement", "a2eeef"),
    (1205340118, "documentation", "0075ca"),
    (1205340119, "good first issue", "7057ff"),
]
_TITLES = [
    "Crash when the config file is empty",
    "Add a dark mode to the settings page",
    "Document the retry options",
    "Login button does nothing on Safari",
    "Support pagination in the export endpoint",
    "Typo in the README install section",
    "Timeouts are not configurable",
    "Show the last sync date on the dashboard",
    "Broken link in the API reference",
    "Rate limit errors are swallowed",
    "Allow filtering issues by label",
    "Upgrade to Python 3.12",
]
ISSUE_COUNT = 45
"""Every 9th is a pull request: 40 issues and 5 pull requests, 3 pages of 20."""


def _user(index: int) -> dict[str, Any]:
    login, uid = _USERS[index % len(_USERS)]
    return {"login": login, "id": uid, "type": "User"}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def github_issues() -> list[dict[str, Any]]:
    """The fake's issues as GitHub returns them (a trimmed but faithful set of fields)."""
    numbers = dict.fromkeys(_REPOS, 0)
    out: list[dict[str, Any]] = []
    for i in range(ISSUE_COUNT):
        repo = _REPOS[i % len(_REPOS)]
        numbers[repo] += 1
        owner, name, repo_id = repo
        number = numbers[repo] + 100
        created = _START + timedelta(hours=7 * i)
        updated = created + timedelta(hours=1 + 3 * (i % 5))
        closed = i % 4 == 0
        api_url = f"{PUBLIC_URL}/repos/{owner}/{name}/issues/{number}"
        html_url = f"https://github.com/{owner}/{name}/issues/{number}"
        label_id, label, color = _LABELS[i % len(_LABELS)]
        issue: dict[str, Any] = {
            "url": api_url,
            "repository_url": f"{PUBLIC_URL}/repos/{owner}/{name}",
            "html_url": html_url,
            "id": 2250000000 + 137 * i,
            "node_id": "I_kwDO" + base64.b64encode(f"{repo_id}:{number}".encode()).decode()[:14],
            "number": number,
            "title": _TITLES[i % len(_TITLES)],
            "user": _user(i),
            "labels": [
                {
                    "id": label_id,
                    "name": label,
                    "color": color,
                    "default": label == "bug",
                }
            ],
            "state": "closed" if closed else "open",
            "locked": False,
            "assignee": _user(i + 1) if i % 3 == 0 else None,
            "comments": (i * 7) % 9,
            "created_at": _stamp(created),
            "updated_at": _stamp(updated),
            "closed_at": _stamp(updated) if closed else None,
            "author_association": "MEMBER" if i % 2 else "CONTRIBUTOR",
            "body": f"Seen on {name} {number % 3 + 1}.x.",
            "repository": {
                "id": repo_id,
                "name": name,
                "full_name": f"{owner}/{name}",
                "private": owner == "acme",
                "html_url": f"https://github.com/{owner}/{name}",
            },
        }
        if i % 9 == 8:
            issue["html_url"] = html_url.replace("/issues/", "/pull/")
            issue["pull_request"] = {
                "url": f"{PUBLIC_URL}/repos/{owner}/{name}/pulls/{number}",
                "html_url": issue["html_url"],
                "merged_at": None,
            }
        out.append(issue)
    return out


class FakeGitHub:
    """Routes of the fake on a :class:`FakeApi`."""

    def __init__(self, api: FakeApi, token: str = TOKEN) -> None:
        self.api = api
        self.token = token
        self.issues = github_issues()
        api.route("/user/issues", self.list_issues)
        api.route("/repos/acme/app/issues", self.create_issue)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4987",
            "X-RateLimit-Reset": "1714557600",
            "X-RateLimit-Resource": "core",
            **(extra or {}),
        }

    def _unauthorised(self, request: Received) -> Reply | None:
        if request.headers.get("authorization") == f"Bearer {self.token}":
            return None
        body = {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }
        return 401, self._headers(), body

    def list_issues(self, request: Received) -> Reply:
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        query = request.query
        found = sorted(self.issues, key=lambda issue: issue["updated_at"])
        if query.get("direction", "desc") == "desc":
            found.reverse()
        if query.get("state", "open") != "all":
            found = [issue for issue in found if issue["state"] == query.get("state", "open")]
        if "since" in query:
            since = datetime.fromisoformat(query["since"].replace("Z", "+00:00"))
            found = [
                issue
                for issue in found
                if datetime.fromisoformat(issue["updated_at"].replace("Z", "+00:00")) >= since
            ]
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        last = max(1, -(-len(found) // per_page))
        chunk = found[(page - 1) * per_page : page * per_page]
        base = f"http://{request.headers['host']}/user/issues"

        def link(to: int, rel: str) -> str:
            return f'<{base}?{urlencode({**query, "page": str(to)})}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        return 200, self._headers({"Link": ", ".join(links)} if links else None), chunk

    def create_issue(self, request: Received) -> Reply:
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        if request.method != "POST":
            return 405, self._headers(), {"message": "Not Found"}
        sent = request.json() or {}
        if not sent.get("title"):
            return 422, self._headers(), {"message": "Validation Failed"}
        issue = {
            **github_issues()[1],
            "id": 2250099999,
            "number": 999,
            "title": sent["title"],
            "body": sent.get("body", ""),
            "labels": [{"id": 1, "name": n, "color": "ededed"} for n in sent.get("labels", [])],
            "state": "open",
            "comments": 0,
            "closed_at": None,
        }
        issue.pop("repository", None)  # GitHub's create answer has repository_url only
        return 201, self._headers(), issue


def state_env(project: Path, state: Path, api_url: str) -> dict[str, str]:
    return {
        "NANGO_SCRIPTS_PROJECT": str(project),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{state / 'nango.db'}",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_INTEGRATION_GITHUB_BASE_URL": api_url,
    }


def record(project: Path, state: Path) -> None:
    """Record the example sync's cassette and snapshot into ``project`` (made by init)."""
    with FakeApi() as api:
        FakeGitHub(api)
        env = state_env(project, state, api.url)
        runner = CliRunner()
        credentials = json.dumps({"type": "OAUTH2", "access_token": TOKEN})
        for args in (
            ["connections", "create", "github", "demo", "--credentials", credentials],
            ["dryrun", "issues", "demo", "--save-responses"],
        ):
            done = runner.invoke(cli, args, env=env, catch_exceptions=False)
            if done.exit_code != 0:
                raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.output}")
        cassette = project / "github" / "tests" / "cassettes" / "issues.yaml"
        text = cassette.read_text("utf-8")
        if TOKEN in text:
            raise RuntimeError(f"the token was not scrubbed from {cassette}")
        # The fake stands in for api.github.com: its address goes (URLs, Host header).
        text = text.replace(api.url, PUBLIC_URL).replace(
            api.url.removeprefix("http://"), "api.github.com"
        )
        cassette.write_text(text, "utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, state = Path(tmp) / "project", Path(tmp) / "state"
        runner = CliRunner()
        done = runner.invoke(cli, ["init", str(project)], env={}, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        shutil.rmtree(project / "github" / "tests" / "cassettes", ignore_errors=True)
        shutil.rmtree(project / "github" / "tests" / "snapshots", ignore_errors=True)
        record(project, state)
        for kind, name in (("cassettes", "issues.yaml"), ("snapshots", "issues.json")):
            target = SHIPPED / kind / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(project / "github" / "tests" / kind / name, target)
            print(f"wrote {os.path.relpath(target, ROOT)}")


if __name__ == "__main__":
    main()
