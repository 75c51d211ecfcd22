"""Notion models: Nango's User and NotionCompleteDatabase, and create-page input/output."""

from typing import Any, Literal

from pydantic import BaseModel, model_validator


class User(BaseModel):
    id: str
    email: str | None
    firstName: str
    lastName: str
    isBot: bool


class DatabaseMeta(BaseModel):
    databaseId: str
    path: str
    """The database's URL."""
    title: str
    last_modified: str
    """The database's last_edited_time."""


class NotionCompleteDatabase(BaseModel):
    """One row (a page) of a database."""

    id: str
    row: dict[str, Any]
    """The row's properties, as Notion gives them."""
    meta: DatabaseMeta


# --- create-page -----------------------------------------------------------------------


class PageParent(BaseModel):
    """Exactly one of these."""

    page_id: str | None = None
    database_id: str | None = None
    data_source_id: str | None = None
    """Needs a Notion API version of 2025-09-03 or later (see the README)."""
    workspace: bool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "PageParent":
        given = [self.page_id, self.database_id, self.data_source_id, self.workspace or None]
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                "give exactly one of page_id, database_id, data_source_id or workspace=true"
            )
        return self


class ExternalFile(BaseModel):
    url: str


class PageIcon(BaseModel):
    type: Literal["emoji", "external", "file", "custom_emoji"]
    emoji: str | None = None
    external: ExternalFile | None = None
    file: dict[str, Any] | None = None
    custom_emoji: str | None = None


class PageCover(BaseModel):
    type: Literal["external", "file"]
    external: ExternalFile | None = None
    file: dict[str, Any] | None = None


class PageTemplate(BaseModel):
    """A database template to apply (newer Notion API versions only, see the README)."""

    type: Literal["none", "default", "template_id"]
    template_id: str | None = None
    timezone: str | None = None


class PageBlock(BaseModel):
    """A simple text block of the new page's content."""

    type: Literal[
        "paragraph",
        "heading_1",
        "heading_2",
        "heading_3",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
    ]
    text: str
    checked: bool | None = None
    """to_do blocks only."""


class CreatePageInput(BaseModel):
    parent: PageParent
    title: str | None = None
    """Set as the page's title property (the "title" property of a database row)."""
    properties: dict[str, Any] | None = None
    """Other properties, in Notion's property value format."""
    icon: PageIcon | None = None
    cover: PageCover | None = None
    children: list[PageBlock] | None = None
    template: PageTemplate | None = None
    markdown: str | None = None
    """Page content as Markdown (newer Notion API versions only, see the README)."""


class CreatePageOutput(BaseModel):
    id: str
    object: Literal["page"] | None = None
    created_time: str | None = None
    last_edited_time: str | None = None
    url: str | None = None
    public_url: str | None = None
    archived: bool | None = None
    in_trash: bool | None = None
    parent: dict[str, Any] | None = None
    icon: dict[str, Any] | None = None
    cover: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
