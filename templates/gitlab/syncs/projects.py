from typing import Any

from nango_scripts import Link, NangoSync, sync

from ..helpers import gitlab_timestamp
from ..models import Project


def to_project(raw: dict[str, Any]) -> Project:
    namespace = raw.get("namespace")
    owner = raw.get("owner")  # absent on group projects
    return Project(
        id=str(raw["id"]),
        name=raw["name"],
        path=raw["path"],
        path_with_namespace=raw.get("path_with_namespace"),
        description=raw.get("description"),
        web_url=raw.get("web_url"),
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        last_activity_at=raw["last_activity_at"],
        visibility=raw.get("visibility"),
        default_branch=raw.get("default_branch"),
        archived=raw.get("archived"),
        topics=raw.get("topics"),
        namespace_id=namespace["id"] if namespace else None,
        namespace_name=namespace["name"] if namespace else None,
        namespace_path=namespace["path"] if namespace else None,
        owner_id=owner["id"] if owner else None,
        owner_username=owner.get("username") if owner else None,
        star_count=raw.get("star_count"),
        forks_count=raw.get("forks_count"),
        open_issues_count=raw.get("open_issues_count"),
    )


@sync(
    name="projects",
    models=[Project],
    frequency="every hour",
    sync_type="incremental",
    scopes=["read_api"],
    endpoints=[{"method": "GET", "path": "/syncs/projects"}],
    description="Every project the user is a member of; later runs fetch only the projects "
    "with activity since the last run.",
    version="1.0.0",
)
async def projects(nango: NangoSync) -> None:
    # https://docs.gitlab.com/api/projects/#list-all-projects
    params = {"membership": "true", "order_by": "last_activity_at", "sort": "asc"}
    if nango.last_sync_date is not None:
        params["last_activity_after"] = gitlab_timestamp(nango.last_sync_date)
    async for page in nango.paginate("/api/v4/projects", params=params, paginate=Link(limit=100)):
        await nango.batch_save([to_project(raw) for raw in page], Project)
