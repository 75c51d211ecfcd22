"""SOQL queries shared by the Salesforce syncs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from nango_scripts import NangoSync

API = "/services/data/v60.0"


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal (`YYYY-MM-DDThh:mm:ssZ`); a naive datetime is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def changed_since_query(sobject: str, fields: list[str], since: datetime | None) -> str:
    query = f"SELECT {', '.join(fields)} FROM {sobject}"
    if since is not None:
        query += f" WHERE LastModifiedDate > {soql_datetime(since)}"
    return query


async def query_pages(
    nango: NangoSync, query: str, *, all_rows: bool = False
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of records of a SOQL query; `all_rows` also returns deleted ones (queryAll).

    The integration's default pagination follows `nextRecordsUrl`.
    """
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_queryall.htm
    endpoint = f"{API}/queryAll" if all_rows else f"{API}/query"
    async for page in nango.paginate(endpoint, params={"q": query}):
        yield page


async def deleted_ids(nango: NangoSync, sobject: str, since: datetime) -> list[str]:
    """Ids of `sobject` records deleted since `since`, while they are in the Recycle Bin.

    A delete moves SystemModstamp, so it is the field to filter deleted records on.
    """
    query = (
        f"SELECT Id FROM {sobject} WHERE IsDeleted = true "
        f"AND SystemModstamp > {soql_datetime(since)}"
    )
    ids: list[str] = []
    async for page in query_pages(nango, query, all_rows=True):
        ids.extend(record["Id"] for record in page)
    return ids
