from typing import Any

from nango_scripts import Link, NangoSync, sync

from ..helpers import gitlab_timestamp, member_project_ids
from ..models import MergeRequest


def to_merge_request(raw: dict[str, Any]) -> MergeRequest:
    author = raw.get("author")
    return MergeRequest(
        id=str(raw["id"]),
        iid=raw["iid"],
        project_id=raw["project_id"],
        title=raw["title"],
        description=raw.get("description"),
        state=raw["state"],
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        author_id=author["id"] if author else None,
        author_username=author["username"] if author else None,
        source_branch=raw["source_branch"],
        target_branch=raw["target_branch"],
        web_url=raw["web_url"],
        draft=raw["draft"],
        labels=raw.get("labels"),
        merged_at=raw.get("merged_at"),
        closed_at=raw.get("closed_at"),
    )


@sync(
    name="merge-requests",
    models=[MergeRequest],
    frequency="every hour",
    sync_type="incremental",
    scopes=["read_api"],
    endpoints=[{"method": "GET", "path": "/syncs/merge-requests"}],
    description="Merge requests of every project the user is a member of; later runs fetch "
    "only the merge requests updated since the last run.",
    version="1.0.0",
)
async def merge_requests(nango: NangoSync) -> None:
    params = {"state": "all", "order_by": "updated_at", "sort": "asc"}
    if nango.last_sync_date is not None:
        params["updated_after"] = gitlab_timestamp(nango.last_sync_date)

    for project_id in await member_project_ids(nango):
        # https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
        async for page in nango.paginate(
            f"/api/v4/projects/{project_id}/merge_requests",
            params=params,
            paginate=Link(limit=100),
        ):
            await nango.batch_save([to_merge_request(raw) for raw in page], MergeRequest)
