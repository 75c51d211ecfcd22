from typing import Any

from nango_scripts import NangoSync, sync

from ..api import pages, since
from ..models import Team

QUERY = """
query Teams(
  $filter: TeamFilter, $includeArchived: Boolean, $orderBy: PaginationOrderBy,
  $first: Int, $after: String
) {
  teams(
    filter: $filter, includeArchived: $includeArchived, orderBy: $orderBy,
    first: $first, after: $after
  ) {
    nodes { id name key description color icon private createdAt updatedAt archivedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""

FIELDS = ("name", "key", "description", "color", "icon", "private", "createdAt", "updatedAt")


def to_team(node: dict[str, Any]) -> Team:
    return Team(id=node["id"], **{field: node.get(field) for field in FIELDS})


@sync(
    name="teams",
    models=[Team],
    frequency="every hour",
    sync_type="incremental",
    scopes=["read"],
    endpoints=[{"method": "GET", "path": "/syncs/teams"}],
    description="Teams the user can see; later runs fetch only the teams updated since the "
    "last run and remove the ones archived (deleted) since.",
    version="2.0.0",
)
async def teams(nango: NangoSync) -> None:
    variables: dict[str, Any] = {"orderBy": "updatedAt"}
    if nango.last_sync_date is not None:
        variables["filter"] = {"updatedAt": {"gte": since(nango.last_sync_date)}}
        # Deleting a team archives it; later runs ask for archived teams to remove them.
        variables["includeArchived"] = True
    async for nodes in pages(nango, QUERY, "teams", variables):
        archived = [node["id"] for node in nodes if node.get("archivedAt")]
        live = [to_team(node) for node in nodes if not node.get("archivedAt")]
        if live:
            await nango.batch_save(live, Team)
        if archived:
            await nango.batch_delete(archived, Team)
