from nango_scripts import Cursor, NangoSync, sync

from ..helpers import to_contact
from ..models import Contact


@sync(
    name="contacts",
    endpoints=[{"method": "GET", "path": "/syncs/contacts"}],
    models=[Contact],
    frequency="every 6 hours",
    sync_type="full",
    track_deletes=True,
    description="Every contact (users and leads) of the Intercom workspace; contacts gone "
    "from Intercom are marked deleted.",
    version="1.0.0",
)
async def contacts(nango: NangoSync) -> None:
    # https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/listcontacts
    # 150 is the largest page Intercom serves; the cursor is pages.next.starting_after.
    async for page in nango.paginate("/contacts", paginate=Cursor(limit=150)):
        await nango.batch_save([to_contact(raw) for raw in page], Contact)
