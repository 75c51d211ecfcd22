from typing import Any

from nango_scripts import NangoSync, sync

from ..helpers import changed_since_query, deleted_ids, query_pages
from ..models import Account

FIELDS = [
    "Id",
    "Name",
    "Description",
    "Website",
    "Industry",
    "BillingCity",
    "BillingCountry",
    "OwnerId",
    "Owner.Name",
    "LastModifiedDate",
]


def to_account(raw: dict[str, Any]) -> Account:
    return Account(
        id=raw["Id"],
        name=raw["Name"],
        description=raw.get("Description"),
        website=raw.get("Website"),
        industry=raw.get("Industry"),
        billing_city=raw.get("BillingCity"),
        billing_country=raw.get("BillingCountry"),
        owner_id=raw["OwnerId"],
        owner_name=raw["Owner"]["Name"],
        last_modified_date=raw["LastModifiedDate"],
    )


@sync(
    name="accounts",
    endpoints=[{"method": "GET", "path": "/syncs/accounts"}],
    models=[Account],
    frequency="every hour",
    sync_type="incremental",
    scopes=["offline_access", "api"],
    description="Every account of the Salesforce org; later runs fetch the accounts modified "
    "since the last run and mark the ones deleted since then.",
    version="1.0.0",
)
async def accounts(nango: NangoSync) -> None:
    since = nango.last_sync_date
    # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_account.htm
    async for page in query_pages(nango, changed_since_query("Account", FIELDS, since)):
        await nango.batch_save([to_account(raw) for raw in page], Account)
    if since is not None:
        gone = await deleted_ids(nango, "Account", since)
        if gone:
            await nango.batch_delete(gone, Account)
