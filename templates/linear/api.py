"""Linear's GraphQL API: one request, cursor paging over a connection, and the issue mapping."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from nango_scripts import NangoAction

from .models import LinearIssue

PAGE_SIZE = 50

ISSUE_FIELDS = """
    id
    title
    description
    dueDate
    estimate
    createdAt
    updatedAt
    archivedAt
    assignee { id }
    creator { id }
    project { id }
    team { id }
    state { name }
"""


class LinearGraphQLError(Exception):
    """Linear answered, but with GraphQL errors instead of data."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        messages = "; ".join(_message(e) for e in errors) or "no message"
        super().__init__(f"Linear GraphQL error: {messages}")


def _message(error: dict[str, Any]) -> str:
    extensions = error.get("extensions") or {}
    return str(extensions.get("userPresentableMessage") or error.get("message") or error)


async def graphql(nango: NangoAction, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await nango.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    # GraphQL reports some failures with a 200 status: they must not pass for empty data.
    if body.get("errors"):
        raise LinearGraphQLError(body["errors"])
    data: dict[str, Any] = body["data"]
    return data


async def pages(
    nango: NangoAction, query: str, field: str, variables: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    """The nodes of connection ``field``, page by page, following ``pageInfo.endCursor``."""
    # `after` is always sent (null on the first page) so every request names its page.
    after: str | None = None
    while True:
        data = await graphql(nango, query, {**variables, "first": PAGE_SIZE, "after": after})
        connection = data[field]
        nodes: list[dict[str, Any]] = connection["nodes"]
        yield nodes
        info = connection["pageInfo"]
        cursor = info.get("endCursor")
        if not nodes or not info.get("hasNextPage") or not cursor or cursor == after:
            return
        after = cursor


def _id_of(node: dict[str, Any] | None) -> str | None:
    return node["id"] if node else None


def _estimate(value: float | None) -> str | None:
    # Nango's model types the estimate as a string; points are whole numbers in practice.
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def to_issue(node: dict[str, Any]) -> LinearIssue:
    due = node.get("dueDate")
    return LinearIssue(
        id=node["id"],
        assigneeId=_id_of(node.get("assignee")),
        creatorId=_id_of(node.get("creator")),
        createdAt=node["createdAt"],
        updatedAt=node["updatedAt"],
        description=node.get("description"),
        # A date without time in Linear; Nango gives it as midnight UTC.
        dueDate=f"{due}T00:00:00.000Z" if due else None,
        projectId=_id_of(node.get("project")),
        teamId=node["team"]["id"],
        title=node["title"],
        status=node["state"]["name"],
        estimate=_estimate(node.get("estimate")),
    )


def since(moment: datetime) -> str:
    """An instant as Linear writes DateTimes: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
