"""Jira models, with the names and fields of Nango's jira templates."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator


class JiraProjectId(BaseModel):
    id: str = Field(min_length=1)


class JiraIssueMetadata(BaseModel):
    projectIdsToSync: list[JiraProjectId] = Field(min_length=1)
    cloudId: str | None = None
    baseUrl: str | None = None
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


class Author(BaseModel):
    accountId: str | None = None
    active: bool
    displayName: str
    emailAddress: str | None = None


class Comment(BaseModel):
    id: str
    createdAt: str
    updatedAt: str
    author: Author
    body: dict[str, object]


class Issue(BaseModel):
    id: str
    createdAt: str
    updatedAt: str
    key: str
    summary: str
    issueType: str
    status: str
    assignee: str | None = None
    url: str
    webUrl: str
    projectId: str
    projectKey: str
    projectName: str
    comments: list[Comment]


class Project(BaseModel):
    id: str
    key: str
    name: str
    url: str
    projectTypeKey: str
    webUrl: str


class CreateIssueInput(BaseModel):
    summary: str = Field(min_length=1)
    description: str | None = None
    assignee: str | None = None
    labels: list[str] | None = None
    project: str = Field(min_length=1)
    issueType: str = Field(min_length=1)


class CreateIssueOutput(BaseModel):
    id: str
    key: str
    self: str
