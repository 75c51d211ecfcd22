"""Small helpers shared by the GitHub syncs."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from nango_scripts import Link, NangoAction


def repo_path(owner: str, repo: str) -> str:
    """`/repos/{owner}/{repo}`, each part escaped for a URL path."""
    return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"


def github_timestamp(moment: datetime) -> str:
    """The `YYYY-MM-DDTHH:MM:SSZ` form GitHub documents for `since` filters."""
    if moment.tzinfo is None:  # a naive last sync date is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def user_repositories(nango: NangoAction) -> list[tuple[str, str]]:
    """(owner, name) of every repository the connected user can see."""
    found: list[tuple[str, str]] = []
    # https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user
    async for page in nango.paginate("/user/repos", paginate=Link(limit=100)):
        found.extend((raw["owner"]["login"], raw["name"]) for raw in page)
    return found
