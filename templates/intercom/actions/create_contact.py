from typing import Any

from nango_scripts import NangoAction, action

from ..helpers import to_contact
from ..models import Contact, IntercomCreateContact


@action(
    name="create-contact",
    input=IntercomCreateContact,
    output=Contact,
    endpoint={"method": "POST", "path": "/contact"},
    description="Create a contact with the role user in Intercom.",
    version="1.0.0",
)
async def create_contact(nango: NangoAction, input: IntercomCreateContact) -> Contact:
    body: dict[str, Any] = input.model_dump(exclude={"firstName", "lastName"}, exclude_none=True)
    body["role"] = "user"
    body["name"] = f"{input.firstName} {input.lastName}"
    if "owner_id" in body and body["owner_id"].isdigit():
        body["owner_id"] = int(body["owner_id"])  # Intercom documents an integer admin id
    # https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/createcontact
    response = await nango.post("/contacts", json=body)
    return to_contact(response.json())
