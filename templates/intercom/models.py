"""Models of the Intercom templates: Nango's names, fields and optionality."""

from __future__ import annotations

from pydantic import BaseModel, Field

# --------------------------------------------------------------------------- contacts


class Contact(BaseModel):
    id: str
    workspace_id: str
    external_id: str | None = None
    type: str
    """The contact's role: "user" or "lead"."""
    # Nango declares a string but copies Intercom's null for a lead without an address.
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    created_at: str
    updated_at: str
    last_seen_at: str | None = None
    last_replied_at: str | None = None


# --------------------------------------------------------------------------- create-contact


class IntercomCreateContact(BaseModel):
    firstName: str = Field(min_length=1)
    lastName: str = Field(min_length=1)
    email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    external_id: str | None = None
    phone: str | None = None
    avatar: str | None = None
    signed_up_at: int | None = None
    """Unix seconds."""
    last_seen_at: int | None = None
    """Unix seconds."""
    owner_id: str | None = None
    """The id of the admin who owns the contact."""
    unsubscribed_from_emails: bool | None = None
