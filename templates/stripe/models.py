"""Models of the Stripe templates: Nango's names, fields and optionality."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Customer(BaseModel):
    id: str
    object: str | None = None
    address: Any = None
    balance: int | None = None
    # Unix seconds, as Stripe gives it and Nango keeps it.
    created: int
    currency: str | None = None
    default_source: str | None = None
    delinquent: bool | None = None
    description: str | None = None
    email: str | None = None
    invoice_prefix: str | None = None
    invoice_settings: Any = None
    livemode: bool | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    next_invoice_sequence: int | None = None
    phone: str | None = None
    preferred_locales: list[str] | None = None
    shipping: Any = None
    tax_exempt: str | None = None
    test_clock: str | None = None


class CustomerAddress(BaseModel):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class CreateCustomerInput(BaseModel):
    # A loose check: Stripe itself decides which addresses it accepts.
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = None
    description: str | None = None
    phone: str | None = None
    address: CustomerAddress | None = None
    metadata: dict[str, str] | None = None


class CreateCustomerOutput(BaseModel):
    id: str
    address: CustomerAddress | None = None
    created: int | None = None
    currency: str | None = None
    default_source: str | None = None
    description: str | None = None
    email: str | None = None
    invoice_prefix: str | None = None
    livemode: bool | None = None
    metadata: dict[str, str] | None = None
    name: str | None = None
    next_invoice_sequence: int | None = None
    phone: str | None = None
    preferred_locales: list[str] | None = None
    shipping: Any = None
    tax_exempt: str | None = None
