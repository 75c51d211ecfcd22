from tracker.models import Issue

from nango_scripts import Link, NangoSync, sync


@sync(
    models=[Issue],
    frequency="every 30 minutes",
    sync_type="incremental",
    description="Every issue of the tracker; later runs fetch only what changed.",
)
async def issues(nango: NangoSync) -> None:
    params = {}
    if nango.last_sync_date is not None:
        params["since"] = nango.last_sync_date.isoformat()
    # The integration's default pagination (Link header, per_page) applies; a config
    # of the same type overrides only the fields it sets, here the page size.
    async for page in nango.paginate("/issues", params=params, paginate=Link(limit=25)):
        await nango.batch_save(page, Issue)
        nango.log(f"saved a page of {len(page)} issues")
