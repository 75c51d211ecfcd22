from typing import Any

from nango_scripts import NangoSync, sync

from ..api import pages, since
from ..models import LinearUser

QUERY = """
query Users($filter: UserFilter, $includeDisabled: Boolean, $first: Int, $after: String) {
  users(filter: $filter, includeDisabled: $includeDisabled, first: $first, after: $after) {
    nodes { id name email admin avatarUrl active updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def to_user(node: dict[str, Any]) -> LinearUser:
    # Linear keeps one full name; the first word is the first name, the rest the last name.
    first, _, last = node["name"].strip().partition(" ")
    return LinearUser(
        id=node["id"],
        admin=node["admin"],
        email=node["email"],
        firstName=first,
        lastName=last.strip() or None,
        avatarUrl=node.get("avatarUrl"),
    )


@sync(
    name="users",
    models=[LinearUser],
    frequency="every 5 minutes",
    sync_type="incremental",
    scopes=["read"],
    description="Fetches a list of users from Linear",
    version="1.0.0",
)
async def users(nango: NangoSync) -> None:
    variables: dict[str, object] = {}
    if nango.last_sync_date is not None:
        # Users are suspended, never deleted: later runs see suspended users to remove them.
        variables["filter"] = {"updatedAt": {"gte": since(nango.last_sync_date)}}
        variables["includeDisabled"] = True
    async for nodes in pages(nango, QUERY, "users", variables):
        gone = [node["id"] for node in nodes if not node.get("active", True)]
        live = [to_user(node) for node in nodes if node.get("active", True)]
        if live:
            await nango.batch_save(live, LinearUser)
        if gone:
            await nango.batch_delete(gone, LinearUser)
