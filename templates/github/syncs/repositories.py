from typing import Any

from nango_scripts import Link, NangoSync, sync

from ..models import Repository


def to_repository(raw: dict[str, Any]) -> Repository:
    owner = raw["owner"]
    return Repository(
        id=str(raw["id"]),
        name=raw["name"],
        full_name=raw["full_name"],
        owner_login=owner["login"],
        owner_id=str(owner["id"]),
        owner_type=owner["type"],
        private=raw["private"],
        visibility=raw.get("visibility"),
        html_url=raw["html_url"],
        description=raw.get("description"),
        fork=raw["fork"],
        default_branch=raw["default_branch"],
        created_at=raw.get("created_at"),
        updated_at=raw.get("updated_at"),
        pushed_at=raw.get("pushed_at"),
        homepage=raw.get("homepage"),
        language=raw.get("language"),
        size=raw["size"],
        forks_count=raw["forks_count"],
        stargazers_count=raw["stargazers_count"],
        open_issues_count=raw["open_issues_count"],
        archived=raw.get("archived"),
        disabled=raw.get("disabled"),
    )


# GitHub cannot list only the repositories changed since a date, so every run reads them
# all and a repository missing from a complete run is marked deleted.
@sync(
    name="repositories",
    endpoints=[{"method": "GET", "path": "/syncs/repositories"}],
    models=[Repository],
    frequency="every hour",
    sync_type="full",
    track_deletes=True,
    scopes=["repo"],
    description="Every repository the connected user can see (owned, collaborator and "
    "organization member); repositories no longer visible are marked deleted.",
    version="1.0.0",
)
async def repositories(nango: NangoSync) -> None:
    # https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user
    params = {"sort": "updated", "direction": "desc"}
    async for page in nango.paginate("/user/repos", params=params, paginate=Link(limit=100)):
        await nango.batch_save([to_repository(raw) for raw in page], Repository)
