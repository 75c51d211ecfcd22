from typing import Any

from nango_scripts import NangoSync, sync

from ..api import pages, since
from ..models import User

QUERY = """
query Users(
  $filter: UserFilter, $includeDisabled: Boolean, $orderBy: PaginationOrderBy,
  $first: Int, $after: String
) {
  users(
    filter: $filter, includeDisabled: $includeDisabled, orderBy: $orderBy,
    first: $first, after: $after
  ) {
    nodes { id name email avatarUrl active displayName createdAt updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""

FIELDS = ("name", "email", "avatarUrl", "active", "displayName", "createdAt", "updatedAt")


def to_user(node: dict[str, Any]) -> User:
    return User(id=node["id"], **{field: node.get(field) for field in FIELDS})


@sync(
    name="users",
    models=[User],
    frequency="every 5 minutes",
    sync_type="incremental",
    scopes=["read"],
    endpoints=[{"method": "GET", "path": "/syncs/users"}],
    description="Members of the workspace with their profile and active state; later runs "
    "fetch only the users updated since the last run, suspended ones included.",
    version="2.0.0",
)
async def users(nango: NangoSync) -> None:
    variables: dict[str, Any] = {"orderBy": "updatedAt"}
    if nango.last_sync_date is not None:
        variables["filter"] = {"updatedAt": {"gte": since(nango.last_sync_date)}}
        # Linear never deletes a user, it suspends them: later runs see suspended users so
        # their records turn to active: false instead of staying active.
        variables["includeDisabled"] = True
    async for nodes in pages(nango, QUERY, "users", variables):
        await nango.batch_save([to_user(node) for node in nodes], User)
