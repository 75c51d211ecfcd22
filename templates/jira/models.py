"""Jira models, with the names and fields of Nango's current jira templates."""

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

# --------------------------------------------------------------------------- metadata


class JiraIssueMetadata(BaseModel):
    """Optional connection metadata of `issues`: a JQL filter and the site's details."""

    jql: str | None = None
    cloudId: str | None = None
    baseUrl: str | None = None
    # Not in Nango's metadata: the zone JQL reads dates in (see README).
    timeZone: str | None = None

    @field_validator("timeZone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


# --------------------------------------------------------------------------- issues


class Issue(BaseModel):
    id: str
    key: str
    self: str
    web_url: str | None = None
    summary: str | None = None
    # The description as Jira's API v3 gives it: an Atlassian Document (ADF) object.
    description: Any = None
    status: str | None = None
    issue_type: str | None = None
    priority: str | None = None
    project_id: str | None = None
    project_key: str | None = None
    reporter_id: str | None = None
    assignee_id: str | None = None
    creator_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    labels: list[str] | None = None


# --------------------------------------------------------------------------- projects


class ProjectLead(BaseModel):
    account_id: str | None = None
    display_name: str | None = None


class ProjectCategory(BaseModel):
    id: str
    name: str
    description: str | None = None


class Project(BaseModel):
    id: str
    key: str
    name: str
    project_type_key: str | None = None
    simplified: bool | None = None
    style: str | None = None
    is_private: bool | None = None
    entity_id: str | None = None
    uuid: str | None = None
    lead: ProjectLead | None = None
    url: str | None = None
    project_category: ProjectCategory | None = None
    avatar_urls: dict[str, str] | None = None


# --------------------------------------------------------------------------- create-issue


class CreateIssueInput(BaseModel):
    """The body of Jira's create-issue request, as Jira names it."""

    fields: dict[str, Any] = Field(min_length=1)
    update: dict[str, Any] | None = None
    historyMetadata: dict[str, Any] | None = None
    properties: list[dict[str, Any]] | None = None
    transition: dict[str, Any] | None = None


class CreateIssueOutput(BaseModel):
    id: str
    key: str
    self: str
    url: str
    transition: dict[str, Any] | None = None
