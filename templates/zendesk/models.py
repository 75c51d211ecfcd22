"""Models of the Zendesk templates: Nango's names, fields and optionality."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

# --------------------------------------------------------------------------- tickets


class ViaSource(BaseModel):
    # `from` is a Python keyword: the attribute is `from_`, the JSON key stays "from".
    from_: dict[str, Any] = Field(alias="from")
    to: dict[str, Any]
    rel: str | None = None

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class Via(BaseModel):
    channel: str
    source: ViaSource


class CustomFields(BaseModel):
    id: int
    # Nango types this string | null; Zendesk also answers booleans (checkbox), numbers
    # (numeric/decimal) and lists (multi-select), which are kept as they come.
    value: str | bool | int | float | list[str] | None = None


class Ticket(BaseModel):
    url: str | None = None
    id: str
    external_id: str | None = None
    via: Via | None = None
    created_at: str | None = None
    updated_at: str | None = None
    generated_timestamp: int | None = None
    type: str | None = None
    subject: str | None = None
    raw_subject: str | None = None
    description: str | None = None
    priority: str | None = None
    status: str | None = None
    recipient: str | None = None
    requester_id: int | None = None
    submitter_id: int | None = None
    assignee_id: int | None = None
    organization_id: int | None = None
    group_id: int | None = None
    collaborator_ids: list[int] | None = None
    follower_ids: list[int] | None = None
    email_cc_ids: list[int] | None = None
    forum_topic_id: str | None = None
    problem_id: str | None = None
    has_incidents: bool | None = None
    is_public: bool | None = None
    due_at: str | None = None
    tags: list[str] | None = None
    custom_fields: list[CustomFields] | None = None
    satisfaction_rating: dict[str, Any] | None = None
    sharing_agreement_ids: list[int] | None = None
    custom_status_id: int | None = None
    fields: list[CustomFields] | None = None
    followup_ids: list[int] | None = None
    ticket_form_id: int | None = None
    brand_id: int | None = None
    allow_channelback: bool | None = None
    allow_attachments: bool | None = None
    from_messaging_channel: bool | None = None


# --------------------------------------------------------------------------- users


class User(BaseModel):
    id: str
    firstName: str
    lastName: str
    email: str


# --------------------------------------------------------------------------- create-ticket


class TicketComment(BaseModel):
    body: str | None = None
    html_body: str | None = None


class TicketCreateFields(BaseModel):
    comment: TicketComment
    # Not in Nango's input; Zendesk's create endpoint takes them and a ticket without a
    # subject shows the first words of the comment instead.
    subject: str | None = None
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    assignee_email: str | None = None
    assignee_id: int | None = None
    brand_id: int | None = None
    due_at: str | None = None
    type: Literal["problem", "incident", "question", "task"] | None = None
    status: Literal["new", "open", "pending", "hold", "solved", "closed"] | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _comment_has_a_body(self) -> TicketCreateFields:
        if not (self.comment.body or self.comment.html_body):
            raise ValueError("ticket.comment needs a body or an html_body")
        return self


class TicketCreate(BaseModel):
    ticket: TicketCreateFields


class CreatedTicket(BaseModel):
    id: str
    url: str
    created_at: str
    updated_at: str
    subject: str | None = None
    description: str
    priority: str | None = None
    status: str
