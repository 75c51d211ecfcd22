from typing import Any

from nango_scripts import NangoSync, sync

from ..helpers import changed_since_query, deleted_ids, query_pages
from ..models import Contact

FIELDS = [
    "Id",
    "FirstName",
    "LastName",
    "Account.Name",
    "Email",
    "AccountId",
    "OwnerId",
    "Owner.Name",
    "MobilePhone",
    "Phone",
    "Title",
    "Salutation",
    "LastModifiedDate",
]


def to_contact(raw: dict[str, Any]) -> Contact:
    account = raw.get("Account")
    return Contact(
        id=raw["Id"],
        first_name=raw.get("FirstName"),
        last_name=raw["LastName"],
        account_name=account.get("Name") if account else None,
        account_id=raw.get("AccountId"),
        email=raw.get("Email"),
        owner_id=raw["OwnerId"],
        owner_name=raw["Owner"]["Name"],
        mobile=raw.get("MobilePhone"),
        phone=raw.get("Phone"),
        salutation=raw.get("Salutation"),
        title=raw.get("Title"),
        last_modified_date=raw["LastModifiedDate"],
    )


@sync(
    name="contacts",
    endpoints=[{"method": "GET", "path": "/syncs/contacts"}],
    models=[Contact],
    frequency="every hour",
    sync_type="incremental",
    scopes=["offline_access", "api"],
    description="Every contact of the Salesforce org; later runs fetch the contacts modified "
    "since the last run and mark the ones deleted since then.",
    version="1.0.0",
)
async def contacts(nango: NangoSync) -> None:
    since = nango.last_sync_date
    # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contact.htm
    async for page in query_pages(nango, changed_since_query("Contact", FIELDS, since)):
        await nango.batch_save([to_contact(raw) for raw in page], Contact)
    if since is not None:
        gone = await deleted_ids(nango, "Contact", since)
        if gone:
            await nango.batch_delete(gone, Contact)
