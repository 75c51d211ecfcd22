"""Models of the Salesforce templates: Nango's names, fields and optionality."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Contact(BaseModel):
    id: str
    first_name: str | None = None
    last_name: str
    account_name: str | None = None
    account_id: str | None = None
    email: str | None = None
    owner_id: str
    owner_name: str
    mobile: str | None = None
    phone: str | None = None
    salutation: str | None = None
    title: str | None = None
    last_modified_date: str


class Account(BaseModel):
    id: str
    name: str
    description: str | None = None
    website: str | None = None
    industry: str | None = None
    billing_city: str | None = None
    billing_country: str | None = None
    owner_id: str
    owner_name: str
    last_modified_date: str


class CreateContactInput(BaseModel):
    first_name: str | None = None
    last_name: str
    account_id: str | None = None
    owner_id: str | None = None
    email: str | None = None
    mobile: str | None = None
    phone: str | None = None
    salutation: str | None = None
    title: str | None = None


class ActionResponse(BaseModel):
    """Salesforce's answer to a create: the new record's id, `success` and `errors`."""

    id: str
    success: bool
    errors: list[Any]
