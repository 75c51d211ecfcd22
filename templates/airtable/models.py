"""Models of the Airtable templates: Nango's names, fields and optionality."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

# --------------------------------------------------------------------------- bases


class Base(BaseModel):
    id: str
    name: str
    permissionLevel: Literal["none", "read", "comment", "edit", "create"]


# --------------------------------------------------------------------------- tables


class TableView(BaseModel):
    id: str
    name: str
    type: str


class TableField(BaseModel):
    id: str
    # Nango declares a string; Airtable leaves the key out for a field without a description.
    description: str | None = None
    name: str
    type: str
    options: dict[str, Any] | None = None


class Table(BaseModel):
    baseId: str
    baseName: str
    id: str
    name: str
    views: list[TableView]
    fields: list[TableField]
    primaryFieldId: str
