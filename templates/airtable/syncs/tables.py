from typing import Any
from urllib.parse import quote

from nango_scripts import Cursor, NangoSync, sync

from ..models import Table, TableField, TableView


def to_table(raw: dict[str, Any], base: dict[str, Any]) -> Table:
    return Table(
        baseId=base["id"],
        baseName=base["name"],
        id=raw["id"],
        name=raw["name"],
        views=[TableView(id=v["id"], name=v["name"], type=v["type"]) for v in raw["views"]],
        fields=[
            TableField(
                id=f["id"],
                description=f.get("description"),
                name=f["name"],
                type=f["type"],
                options=f.get("options"),
            )
            for f in raw["fields"]
        ],
        primaryFieldId=raw["primaryFieldId"],
    )


@sync(
    name="tables",
    models=[Table],
    frequency="every day",
    sync_type="full",
    track_deletes=True,
    scopes=["schema.bases:read"],
    endpoints=[{"method": "GET", "path": "/syncs/tables"}],
    description="The tables of every base the token can access, with their fields and views "
    "and the id and name of their base.",
    version="1.0.0",
)
async def tables(nango: NangoSync) -> None:
    # https://airtable.com/developers/web/api/list-bases
    async for bases in nango.paginate("/v0/meta/bases", paginate=Cursor(response_path="bases")):
        found: list[Table] = []
        for base in bases:
            # https://airtable.com/developers/web/api/get-base-schema
            response = await nango.get(f"/v0/meta/bases/{quote(base['id'], safe='')}/tables")
            found.extend(to_table(raw, base) for raw in response.json()["tables"])
        # One save per page of bases: a base's schema comes whole, in one response.
        if found:
            await nango.batch_save(found, Table)
