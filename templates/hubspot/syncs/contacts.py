from nango_scripts import Cursor, NangoSync, sync

from ..helpers import CONTACT_PROPERTIES, contact_fields
from ..models import Contact


@sync(
    name="contacts",
    endpoints=[{"method": "GET", "path": "/syncs/contacts", "group": "Contacts"}],
    models=[Contact],
    frequency="every day",
    sync_type="full",
    track_deletes=True,
    scopes=["crm.objects.contacts.read", "oauth"],
    description="Every contact of the HubSpot account; contacts gone from HubSpot are "
    "marked deleted.",
    version="1.0.0",
)
async def contacts(nango: NangoSync) -> None:
    # https://developers.hubspot.com/docs/api/crm/contacts (GET /crm/v3/objects/contacts)
    async for page in nango.paginate(
        "/crm/v3/objects/contacts",
        params={"properties": ",".join(CONTACT_PROPERTIES)},
        paginate=Cursor(limit=100),
    ):
        await nango.batch_save([Contact(**contact_fields(raw)) for raw in page], Contact)
