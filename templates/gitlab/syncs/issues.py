from typing import Any

from nango_scripts import Link, NangoSync, sync

from ..helpers import gitlab_timestamp, member_project_ids
from ..models import Issue


def to_issue(raw: dict[str, Any]) -> Issue:
    author = raw.get("author")
    return Issue(
        id=str(raw["id"]),
        project_id=raw["project_id"],
        iid=raw["iid"],
        title=raw["title"],
        description=raw.get("description"),
        state=raw["state"],
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        closed_at=raw.get("closed_at"),
        author_id=author["id"] if author else None,
        author_username=author["username"] if author else None,
        labels=raw.get("labels"),
        web_url=raw.get("web_url"),
    )


@sync(
    name="issues",
    endpoints=[{"method": "GET", "path": "/syncs/issues"}],
    models=[Issue],
    frequency="every hour",
    sync_type="incremental",
    scopes=["read_api"],
    description="Issues of every project the user is a member of; later runs fetch only the "
    "issues updated since the last run.",
    version="1.0.0",
)
async def issues(nango: NangoSync) -> None:
    params = {"state": "all", "order_by": "updated_at", "sort": "asc"}
    if nango.last_sync_date is not None:
        params["updated_after"] = gitlab_timestamp(nango.last_sync_date)

    for project_id in await member_project_ids(nango):
        # https://docs.gitlab.com/api/issues/#list-project-issues
        async for page in nango.paginate(
            f"/api/v4/projects/{project_id}/issues", params=params, paginate=Link(limit=100)
        ):
            await nango.batch_save([to_issue(raw) for raw in page], Issue)
