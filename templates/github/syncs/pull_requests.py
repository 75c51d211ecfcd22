from datetime import UTC, datetime
from typing import Any

from nango_scripts import Link, NangoSync, sync

from ..helpers import repo_path, user_repositories
from ..models import PullRequest, PullRequestLabel, PullRequestsMetadata, PullRequestUser


def to_pull_request(raw: dict[str, Any], repo_full_name: str) -> PullRequest:
    user = raw.get("user")
    return PullRequest(
        id=str(raw["id"]),
        number=raw["number"],
        state=raw["state"],
        title=raw["title"],
        body=raw.get("body"),
        user_login=user["login"] if user else None,
        user_id=user["id"] if user else None,
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        closed_at=raw.get("closed_at"),
        merged_at=raw.get("merged_at"),
        merge_commit_sha=raw.get("merge_commit_sha"),
        head_ref=raw["head"]["ref"],
        head_sha=raw["head"]["sha"],
        base_ref=raw["base"]["ref"],
        base_sha=raw["base"]["sha"],
        draft=bool(raw.get("draft", False)),
        html_url=raw["html_url"],
        repo_full_name=repo_full_name,
        labels=[
            PullRequestLabel(
                id=label["id"],
                name=label["name"],
                color=label["color"],
                description=label.get("description"),
            )
            for label in raw.get("labels") or []
        ],
        assignees=[
            PullRequestUser(login=u["login"], id=u["id"]) for u in raw.get("assignees") or []
        ],
        requested_reviewers=[
            PullRequestUser(login=u["login"], id=u["id"])
            for u in raw.get("requested_reviewers") or []
        ],
    )


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@sync(
    name="pull-requests",
    endpoints=[{"method": "GET", "path": "/syncs/pull-requests"}],
    models=[PullRequest],
    frequency="every hour",
    sync_type="incremental",
    metadata=PullRequestsMetadata,
    scopes=["repo"],
    description="Pull requests of the repositories in the connection metadata (or of every "
    "repository the user can see), with their branches and merge state; later runs stop at "
    "the first pull request not updated since the last run.",
    version="1.0.0",
)
async def pull_requests(nango: NangoSync) -> None:
    metadata = PullRequestsMetadata.model_validate(await nango.get_metadata())
    repos = metadata.repos or [f"{o}/{n}" for o, n in await user_repositories(nango)]
    if not repos:
        nango.log("No repositories in the metadata nor visible to the user: nothing to sync")
        return

    since = nango.last_sync_date
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)

    for full_name in repos:
        owner, _, repo = full_name.partition("/")
        # The pulls endpoint has no `since` filter: newest updates come first, and the
        # first pull request older than the last run ends this repository's pages.
        # https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        async for page in nango.paginate(
            f"{repo_path(owner, repo)}/pulls", params=params, paginate=Link(limit=100)
        ):
            fresh = [
                raw for raw in page if since is None or parse_timestamp(raw["updated_at"]) >= since
            ]
            if fresh:
                await nango.batch_save(
                    [to_pull_request(raw, full_name) for raw in fresh], PullRequest
                )
            if len(fresh) < len(page):
                break
