"""Mapping shared by the contacts sync and the create-contact action."""

from typing import Any

# The contact properties the Contact model is made of.
CONTACT_PROPERTIES = [
    "firstname",
    "lastname",
    "email",
    "jobtitle",
    "notes_last_contacted",
    "notes_last_updated",
    "hs_lead_status",
    "lifecyclestage",
    "salutation",
    "mobilephone",
    "website",
    "createdate",
    "hubspot_owner_id",
]


def contact_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The Contact fields of a HubSpot contact object."""
    props = raw.get("properties") or {}
    return {
        "id": str(raw["id"]),
        "created_date": props.get("createdate") or raw.get("createdAt"),
        "first_name": props.get("firstname"),
        "last_name": props.get("lastname"),
        "email": props.get("email"),
        "job_title": props.get("jobtitle"),
        "last_contacted": props.get("notes_last_contacted"),
        "last_activity_date": props.get("notes_last_updated"),
        "lead_status": props.get("hs_lead_status"),
        "lifecycle_stage": props.get("lifecyclestage"),
        "salutation": props.get("salutation"),
        "mobile_phone_number": props.get("mobilephone"),
        "website_url": props.get("website"),
        "owner": props.get("hubspot_owner_id"),
    }
