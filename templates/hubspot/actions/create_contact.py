from nango_scripts import NangoAction, action

from ..helpers import contact_fields
from ..models import CreateContactInput, CreateUpdateContactOutput

# Input field -> HubSpot contact property.
PROPERTY_OF = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "email",
    "job_title": "jobtitle",
    "lead_status": "hs_lead_status",
    "lifecycle_stage": "lifecyclestage",
    "salutation": "salutation",
    "mobile_phone_number": "mobilephone",
    "website_url": "website",
    "owner": "hubspot_owner_id",
}


@action(
    name="create-contact",
    input=CreateContactInput,
    output=CreateUpdateContactOutput,
    scopes=["crm.objects.contacts.write", "oauth"],
    endpoint={"method": "POST", "path": "/actions/create-contact", "group": "Contacts"},
    description="Create a single contact in HubSpot.",
    version="1.0.0",
)
async def create_contact(
    nango: NangoAction, input: CreateContactInput
) -> CreateUpdateContactOutput:
    # Only the fields the caller gave: a property sent empty would be stored empty.
    given = input.model_dump(exclude_none=True)
    properties = {PROPERTY_OF[field]: value for field, value in given.items()}
    # https://developers.hubspot.com/docs/api/crm/contacts (POST /crm/v3/objects/contacts)
    response = await nango.post("/crm/v3/objects/contacts", json={"properties": properties})
    return CreateUpdateContactOutput(**contact_fields(response.json()))
