from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..models import Company

PROPERTIES = [
    "name",
    "industry",
    "description",
    "country",
    "city",
    "hs_lead_status",
    "lifecyclestage",
    "hubspot_owner_id",
    "founded_year",
    "website",
]


def to_company(raw: dict[str, Any]) -> Company:
    props = raw.get("properties") or {}
    return Company(
        id=str(raw["id"]),
        created_date=raw.get("createdAt"),
        name=props.get("name"),
        industry=props.get("industry"),
        description=props.get("description"),
        country=props.get("country"),
        city=props.get("city"),
        lead_status=props.get("hs_lead_status"),
        lifecycle_stage=props.get("lifecyclestage"),
        owner=props.get("hubspot_owner_id"),
        year_founded=props.get("founded_year"),
        website_url=props.get("website"),
    )


@sync(
    name="companies",
    endpoints=[{"method": "GET", "path": "/syncs/companies", "group": "Companies"}],
    models=[Company],
    frequency="every day",
    sync_type="full",
    track_deletes=True,
    scopes=["crm.objects.companies.read", "oauth"],
    description="Every company of the HubSpot account; companies gone from HubSpot are "
    "marked deleted.",
    version="1.0.0",
)
async def companies(nango: NangoSync) -> None:
    # https://developers.hubspot.com/docs/api/crm/companies (GET /crm/v3/objects/companies)
    async for page in nango.paginate(
        "/crm/v3/objects/companies",
        params={"properties": ",".join(PROPERTIES)},
        paginate=Cursor(limit=100),
    ):
        await nango.batch_save([to_company(raw) for raw in page], Company)
