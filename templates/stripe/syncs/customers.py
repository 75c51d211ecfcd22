from nango_scripts import NangoSync, sync

from ..models import Customer


@sync(
    name="customers",
    models=[Customer],
    frequency="every hour",
    sync_type="incremental",
    endpoints=[{"method": "GET", "path": "/syncs/customers"}],
    description="Stripe customers. The first run fetches them all; later runs fetch the "
    "customers created since the last run (Stripe's list filters on creation time only, so "
    "changes to existing customers and deletions are not seen).",
    version="1.0.0",
)
async def customers(nango: NangoSync) -> None:
    params: dict[str, str | int] = {"limit": 100}
    if nango.last_sync_date is not None:
        params["created[gte]"] = int(nango.last_sync_date.timestamp())
    # Stripe pages with starting_after = the last id of the previous page, until has_more
    # is false: not a cursor found in the response, so the loop is written out.
    # https://docs.stripe.com/api/customers/list
    starting_after: str | None = None
    while True:
        page_params = dict(params)
        if starting_after is not None:
            page_params["starting_after"] = starting_after
        response = await nango.get("/v1/customers", params=page_params)
        page = response.json()
        data = page.get("data") or []
        if data:
            await nango.batch_save(data, Customer)
            starting_after = data[-1]["id"]
        if not page.get("has_more") or not data:
            break
