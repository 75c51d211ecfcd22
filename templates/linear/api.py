"""Linear's GraphQL API: one request, and cursor paging over a connection."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from nango_scripts import NangoAction

PAGE_SIZE = 100


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


def since(moment: datetime) -> str:
    """An instant as Linear writes DateTimes: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
