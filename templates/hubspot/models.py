"""Models of the HubSpot templates: Nango's names, fields and optionality."""

from __future__ import annotations

from pydantic import BaseModel

# --------------------------------------------------------------------------- contacts


class Contact(BaseModel):
    id: str
    created_date: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    job_title: str | None = None
    last_contacted: str | None = None
    last_activity_date: str | None = None
    lead_status: str | None = None
    lifecycle_stage: str | None = None
    salutation: str | None = None
    mobile_phone_number: str | None = None
    website_url: str | None = None
    owner: str | None = None


class CreateContactInput(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    job_title: str | None = None
    lead_status: str | None = None
    lifecycle_stage: str | None = None
    salutation: str | None = None
    mobile_phone_number: str | None = None
    website_url: str | None = None
    owner: str | None = None


class CreateUpdateContactOutput(BaseModel):
    id: str
    created_date: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    job_title: str | None = None
    last_contacted: str | None = None
    last_activity_date: str | None = None
    lead_status: str | None = None
    lifecycle_stage: str | None = None
    salutation: str | None = None
    mobile_phone_number: str | None = None
    website_url: str | None = None
    owner: str | None = None


# --------------------------------------------------------------------------- companies


class Company(BaseModel):
    id: str
    created_date: str | None = None
    name: str | None = None
    industry: str | None = None
    description: str | None = None
    country: str | None = None
    city: str | None = None
    lead_status: str | None = None
    lifecycle_stage: str | None = None
    owner: str | None = None
    year_founded: str | None = None
    website_url: str | None = None


# --------------------------------------------------------------------------- deals


class AssociationCompany(BaseModel):
    id: str
    name: str | None = None


class AssociationContact(BaseModel):
    id: str
    first_name: str | None = None
    last_name: str | None = None


class ReturnedAssociations(BaseModel):
    # Nango's model also has `deals`, which only its task templates fill: left out here.
    companies: list[AssociationCompany] | None = None
    contacts: list[AssociationContact] | None = None


class Deal(BaseModel):
    id: str
    name: str | None = None
    amount: str | None = None
    close_date: str | None = None
    deal_description: str | None = None
    owner: str | None = None
    deal_stage: str | None = None
    deal_probability: str | None = None
    returned_associations: ReturnedAssociations | None = None
