from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..models import NotionCompleteDatabase


def plain_title(database: dict[str, Any]) -> str:
    # The first piece of the rich-text title only, as Nango takes it.
    pieces = database.get("title") or []
    return (pieces[0].get("plain_text") or "") if pieces else ""


@sync(
    name="databases",
    models=[NotionCompleteDatabase],
    frequency="every 1h",
    sync_type="full",
    # Neither search nor database queries report deleted rows: a row missing from a
    # complete run was deleted (or moved to the trash).
    track_deletes=True,
    endpoints=[{"method": "GET", "path": "/databases", "group": "Databases"}],
    description=(
        "Sync a database content with each row as an entry. Store the top level "
        "database information in the metadata to be able to reconcile the database"
    ),
    version="1.0.0",
)
async def databases(nango: NangoSync) -> None:
    # https://developers.notion.com/reference/post-search
    async for found in nango.paginate(
        "/v1/search",
        method="POST",
        json={"filter": {"property": "object", "value": "database"}},
        paginate=Cursor(limit=100),
    ):
        for database in found:
            meta = {
                "databaseId": database["id"],
                "path": database["url"],
                "title": plain_title(database),
                "last_modified": database["last_edited_time"],
            }
            # https://developers.notion.com/reference/post-database-query
            async for rows in nango.paginate(
                f"/v1/databases/{database['id']}/query",
                method="POST",
                json={},
                paginate=Cursor(limit=100),
            ):
                await nango.batch_save(
                    [{"id": row["id"], "row": row["properties"], "meta": meta} for row in rows],
                    NotionCompleteDatabase,
                )
