from nango_scripts import NangoSync, sync

from ..api import ISSUE_FIELDS, pages, since, to_issue
from ..models import LinearIssue

QUERY = f"""
query Issues($filter: IssueFilter, $includeArchived: Boolean, $first: Int, $after: String) {{
  issues(filter: $filter, includeArchived: $includeArchived, first: $first, after: $after) {{
    nodes {{ {ISSUE_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


@sync(
    name="issues",
    models=[LinearIssue],
    frequency="every 5 minutes",
    sync_type="incremental",
    scopes=["read"],
    description="Fetches a list of issues from Linear",
    version="1.0.0",
)
async def issues(nango: NangoSync) -> None:
    variables: dict[str, object] = {}
    if nango.last_sync_date is not None:
        # Archiving (and deleting, which archives into the trash) bumps updatedAt; later runs
        # ask for archived issues too so they can be removed here.
        variables["filter"] = {"updatedAt": {"gte": since(nango.last_sync_date)}}
        variables["includeArchived"] = True
    async for nodes in pages(nango, QUERY, "issues", variables):
        archived = [node["id"] for node in nodes if node.get("archivedAt")]
        live = [to_issue(node) for node in nodes if not node.get("archivedAt")]
        if live:
            await nango.batch_save(live, LinearIssue)
        if archived:
            await nango.batch_delete(archived, LinearIssue)
