from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..models import AssociationCompany, AssociationContact, Deal, ReturnedAssociations

PROPERTIES = [
    "dealname",
    "amount",
    "closedate",
    "description",
    "hubspot_owner_id",
    "dealstage",
    "hs_deal_stage_probability",
]


def associated_ids(raw: dict[str, Any], kind: str) -> list[str]:
    """Ids of the deal's associated `kind` ("companies", "contacts"), each once.

    HubSpot lists an object once per association label (e.g. `deal_to_company` and
    `deal_to_company_unlabeled`), hence the de-duplication.
    """
    results = ((raw.get("associations") or {}).get(kind) or {}).get("results") or []
    return list(dict.fromkeys(str(item["id"]) for item in results))


@sync(
    name="deals",
    models=[Deal],
    frequency="every day",
    sync_type="full",
    track_deletes=True,
    scopes=[
        "crm.objects.deals.read",
        "crm.objects.companies.read",
        "crm.objects.contacts.read",
        "oauth",
    ],
    endpoints=[{"method": "GET", "path": "/syncs/deals", "group": "Deals"}],
    description="Every deal of the HubSpot account with the names of its associated "
    "companies and contacts; deals gone from HubSpot are marked deleted.",
    version="1.0.0",
)
async def deals(nango: NangoSync) -> None:
    # One request per associated object, not per deal: deals share companies and contacts.
    companies: dict[str, AssociationCompany] = {}
    contacts: dict[str, AssociationContact] = {}

    async def company(company_id: str) -> AssociationCompany:
        if company_id not in companies:
            # https://developers.hubspot.com/docs/api/crm/companies (GET .../companies/{id})
            response = await nango.get(
                f"/crm/v3/objects/companies/{company_id}", params={"properties": "name"}
            )
            props = response.json().get("properties") or {}
            companies[company_id] = AssociationCompany(id=company_id, name=props.get("name"))
        return companies[company_id]

    async def contact(contact_id: str) -> AssociationContact:
        if contact_id not in contacts:
            # https://developers.hubspot.com/docs/api/crm/contacts (GET .../contacts/{id})
            response = await nango.get(
                f"/crm/v3/objects/contacts/{contact_id}",
                params={"properties": "firstname,lastname"},
            )
            props = response.json().get("properties") or {}
            contacts[contact_id] = AssociationContact(
                id=contact_id, first_name=props.get("firstname"), last_name=props.get("lastname")
            )
        return contacts[contact_id]

    # https://developers.hubspot.com/docs/api/crm/deals (GET /crm/v3/objects/deals)
    async for page in nango.paginate(
        "/crm/v3/objects/deals",
        params={"properties": ",".join(PROPERTIES), "associations": "contact,company"},
        paginate=Cursor(limit=100),
    ):
        found: list[Deal] = []
        for raw in page:
            props = raw.get("properties") or {}
            found.append(
                Deal(
                    id=str(raw["id"]),
                    name=props.get("dealname"),
                    amount=props.get("amount"),
                    close_date=props.get("closedate"),
                    deal_description=props.get("description"),
                    owner=props.get("hubspot_owner_id"),
                    deal_stage=props.get("dealstage"),
                    deal_probability=props.get("hs_deal_stage_probability"),
                    returned_associations=ReturnedAssociations(
                        companies=[await company(i) for i in associated_ids(raw, "companies")],
                        contacts=[await contact(i) for i in associated_ids(raw, "contacts")],
                    ),
                )
            )
        await nango.batch_save(found, Deal)
