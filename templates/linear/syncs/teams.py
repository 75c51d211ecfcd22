from nango_scripts import NangoSync, sync

from ..api import pages, since
from ..models import LinearTeam

QUERY = """
query Teams($filter: TeamFilter, $includeArchived: Boolean, $first: Int, $after: String) {
  teams(filter: $filter, includeArchived: $includeArchived, first: $first, after: $after) {
    nodes { id name description createdAt updatedAt archivedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@sync(
    name="teams",
    models=[LinearTeam],
    frequency="every 5 minutes",
    sync_type="incremental",
    scopes=["read"],
    description="Fetches a list of teams from Linear",
    version="1.0.0",
)
async def teams(nango: NangoSync) -> None:
    variables: dict[str, object] = {}
    if nango.last_sync_date is not None:
        # Later runs see archived teams too, to remove them.
        variables["filter"] = {"updatedAt": {"gte": since(nango.last_sync_date)}}
        variables["includeArchived"] = True
    async for nodes in pages(nango, QUERY, "teams", variables):
        archived = [node["id"] for node in nodes if node.get("archivedAt")]
        live = [
            LinearTeam(
                id=node["id"],
                name=node["name"],
                description=node.get("description"),
                createdAt=node["createdAt"],
                updatedAt=node["updatedAt"],
            )
            for node in nodes
            if not node.get("archivedAt")
        ]
        if live:
            await nango.batch_save(live, LinearTeam)
        if archived:
            await nango.batch_delete(archived, LinearTeam)
