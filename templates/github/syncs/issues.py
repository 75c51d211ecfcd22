from typing import Any

from nango_scripts import Link, NangoSync, sync

from ..helpers import github_timestamp, repo_path, user_repositories
from ..models import Issue, IssueLabel, IssuesMetadata, IssueUser


def to_issue(raw: dict[str, Any]) -> Issue:
    user = raw.get("user")
    assignee = raw.get("assignee")
    milestone = raw.get("milestone")
    closed_by = raw.get("closed_by")
    labels = raw.get("labels")
    if labels is not None:
        labels = [
            IssueLabel(
                id=label["id"],
                name=label["name"],
                color=label["color"],
                description=label.get("description"),
            )
            for label in labels
        ]
    assignees = raw.get("assignees")
    if assignees is not None:
        assignees = [IssueUser(id=a["id"], login=a["login"]) for a in assignees]
    return Issue(
        id=str(raw["id"]),
        node_id=raw["node_id"],
        number=raw["number"],
        state=raw["state"],
        state_reason=raw.get("state_reason"),
        title=raw["title"],
        body=raw.get("body"),
        html_url=raw["html_url"],
        repository_url=raw["repository_url"],
        user_id=user["id"] if user else None,
        user_login=user["login"] if user else None,
        labels=labels,
        assignee_id=assignee["id"] if assignee else None,
        assignee_login=assignee["login"] if assignee else None,
        assignees=assignees,
        milestone_id=milestone["id"] if milestone else None,
        milestone_number=milestone["number"] if milestone else None,
        milestone_title=milestone["title"] if milestone else None,
        milestone_state=milestone["state"] if milestone else None,
        comments_count=raw.get("comments"),
        locked=raw.get("locked"),
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        closed_at=raw.get("closed_at"),
        closed_by_id=closed_by["id"] if closed_by else None,
        closed_by_login=closed_by["login"] if closed_by else None,
    )


@sync(
    name="issues",
    models=[Issue],
    frequency="every hour",
    sync_type="incremental",
    metadata=IssuesMetadata,
    scopes=["repo"],
    endpoints=[{"method": "GET", "path": "/syncs/issues"}],
    description="Issues of the repositories in the connection metadata (or of every repository "
    "the user can see); later runs fetch only the issues updated since the last run.",
    version="1.0.0",
)
async def issues(nango: NangoSync) -> None:
    metadata = IssuesMetadata.model_validate(await nango.get_metadata())
    if metadata.repositories:
        repositories = [(r.owner, r.repo) for r in metadata.repositories]
    else:
        repositories = await user_repositories(nango)
    if not repositories:
        nango.log("No repositories in the metadata nor visible to the user: nothing to sync")
        return

    params = {"state": "all", "sort": "updated", "direction": "asc"}
    if nango.last_sync_date is not None:
        params["since"] = github_timestamp(nango.last_sync_date)

    for owner, repo in repositories:
        # https://docs.github.com/en/rest/issues/issues#list-repository-issues
        async for page in nango.paginate(
            f"{repo_path(owner, repo)}/issues", params=params, paginate=Link(limit=100)
        ):
            # This endpoint also returns pull requests; they carry a `pull_request` key.
            found = [to_issue(raw) for raw in page if "pull_request" not in raw]
            if found:
                await nango.batch_save(found, Issue)
