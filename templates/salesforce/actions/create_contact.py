from nango_scripts import NangoAction, action

from ..helpers import API
from ..models import ActionResponse, CreateContactInput

# Input field -> Contact field of the Salesforce API.
FIELD_OF = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "account_id": "AccountId",
    "owner_id": "OwnerId",
    "email": "Email",
    "mobile": "MobilePhone",
    "phone": "Phone",
    "salutation": "Salutation",
    "title": "Title",
}


@action(
    name="create-contact",
    input=CreateContactInput,
    output=ActionResponse,
    scopes=["offline_access", "api"],
    endpoint={"method": "POST", "path": "/contacts", "group": "Contacts"},
    description="Create a single contact in Salesforce.",
    version="1.0.0",
)
async def create_contact(nango: NangoAction, input: CreateContactInput) -> ActionResponse:
    # Fields left unset are not sent, so Salesforce applies its own defaults (e.g. OwnerId).
    given = input.model_dump(exclude_none=True)
    body = {FIELD_OF[field]: value for field, value in given.items()}
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
    response = await nango.post(f"{API}/sobjects/Contact", json=body)
    return ActionResponse.model_validate(response.json())
