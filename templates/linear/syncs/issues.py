from typing import Any

from nango_scripts import NangoSync, sync

from ..api import pages, since
from ..models import (
    Issue,
    IssueAssignee,
    IssueCycle,
    IssueLabel,
    IssueProject,
    IssuesMetadata,
    IssueState,
    IssueTeam,
)

QUERY = """
query Issues(
  $filter: IssueFilter, $includeArchived: Boolean, $orderBy: PaginationOrderBy,
  $first: Int, $after: String
) {
  issues(
    filter: $filter, includeArchived: $includeArchived, orderBy: $orderBy,
    first: $first, after: $after
  ) {
    nodes {
      id
      identifier
      title
      description
      updatedAt
      createdAt
      archivedAt
      trashed
      state { id name color }
      assignee { id name email }
      team { id name key }
      labels { nodes { id name color } }
      project { id name state }
      cycle { id name }
      url
      priority
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def to_issue(node: dict[str, Any]) -> Issue:
    state = node.get("state")
    assignee = node.get("assignee")
    team = node.get("team")
    labels = node.get("labels")
    project = node.get("project")
    cycle = node.get("cycle")
    return Issue(
        id=node["id"],
        identifier=node["identifier"],
        title=node["title"],
        description=node.get("description"),
        updatedAt=node["updatedAt"],
        createdAt=node["createdAt"],
        archivedAt=node.get("archivedAt"),
        trashed=node.get("trashed"),
        state=IssueState(id=state["id"], name=state["name"], color=state.get("color"))
        if state
        else None,
        assignee=IssueAssignee(
            id=assignee["id"], name=assignee["name"], email=assignee.get("email")
        )
        if assignee
        else None,
        team=IssueTeam(id=team["id"], name=team["name"], key=team.get("key")) if team else None,
        labels=[
            IssueLabel(id=label["id"], name=label["name"], color=label.get("color"))
            for label in labels.get("nodes") or []
        ]
        if labels is not None
        else None,
        project=IssueProject(id=project["id"], name=project["name"], state=project.get("state"))
        if project
        else None,
        cycle=IssueCycle(id=cycle["id"], name=cycle.get("name")) if cycle else None,
        url=node.get("url"),
        priority=node.get("priority"),
    )


def scope_filter(metadata: IssuesMetadata) -> dict[str, Any]:
    """The team / project restriction of the connection's metadata, as an IssueFilter."""
    found: dict[str, Any] = {}
    if metadata.teamId is not None:
        found["team"] = {"id": {"eq": str(metadata.teamId)}}
    if metadata.projectId is not None:
        found["project"] = {"id": {"eq": str(metadata.projectId)}}
    return found


@sync(
    name="issues",
    endpoints=[{"method": "GET", "path": "/syncs/issues"}],
    models=[Issue],
    frequency="every 5 minutes",
    sync_type="incremental",
    metadata=IssuesMetadata,
    scopes=["read"],
    description="Issues of the workspace (or of the team / project in the metadata) with "
    "their state, assignee, team, labels, project and cycle; later runs fetch only the "
    "issues updated since the last run and remove the ones moved to the trash.",
    version="2.0.0",
)
async def issues(nango: NangoSync) -> None:
    metadata = IssuesMetadata.model_validate(await nango.get_metadata())
    issue_filter = scope_filter(metadata)
    variables: dict[str, Any] = {"orderBy": "updatedAt"}
    if nango.last_sync_date is not None:
        issue_filter["updatedAt"] = {"gte": since(nango.last_sync_date)}
        # Archived and trashed issues are left out unless asked for; later runs ask, so an
        # issue archived since keeps its record (with archivedAt) and a trashed one goes.
        variables["includeArchived"] = True
    if issue_filter:
        variables["filter"] = issue_filter
    async for nodes in pages(nango, QUERY, "issues", variables):
        trashed = [node["id"] for node in nodes if node.get("trashed")]
        kept = [to_issue(node) for node in nodes if not node.get("trashed")]
        if kept:
            await nango.batch_save(kept, Issue)
        if trashed:
            await nango.batch_delete(trashed, Issue)
