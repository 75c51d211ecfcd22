from nango_scripts import Cursor, NangoSync, sync

from ..models import Base


@sync(
    name="bases",
    models=[Base],
    frequency="every day",
    sync_type="full",
    track_deletes=True,
    scopes=["schema.bases:read"],
    endpoints=[{"method": "GET", "path": "/syncs/bases"}],
    description="Every base the token can access, with the user's permission level.",
    version="1.0.0",
)
async def bases(nango: NangoSync) -> None:
    # https://airtable.com/developers/web/api/list-bases
    async for page in nango.paginate("/v0/meta/bases", paginate=Cursor(response_path="bases")):
        found = [
            Base(id=raw["id"], name=raw["name"], permissionLevel=raw["permissionLevel"])
            for raw in page
        ]
        await nango.batch_save(found, Base)
