"""Models of the GitLab templates: Nango's names, fields and optionality."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Issue(BaseModel):
    id: str
    project_id: int
    iid: int
    title: str
    description: str | None = None
    state: str
    created_at: str
    updated_at: str
    closed_at: str | None = None
    author_id: int | None = None
    author_username: str | None = None
    labels: list[str] | None = None
    web_url: str | None = None


class MergeRequest(BaseModel):
    id: str
    iid: int
    project_id: int
    title: str
    description: str | None = None
    state: str
    created_at: str
    updated_at: str
    author_id: int | None = None
    author_username: str | None = None
    source_branch: str
    target_branch: str
    web_url: str
    draft: bool
    labels: list[str] | None = None
    merged_at: str | None = None
    closed_at: str | None = None


class Project(BaseModel):
    id: str
    name: str
    path: str
    path_with_namespace: str | None = None
    description: str | None = None
    web_url: str | None = None
    created_at: str
    updated_at: str
    last_activity_at: str
    visibility: str | None = None
    default_branch: str | None = None
    archived: bool | None = None
    topics: list[str] | None = None
    namespace_id: int | None = None
    namespace_name: str | None = None
    namespace_path: str | None = None
    owner_id: int | None = None
    owner_username: str | None = None
    star_count: int | None = None
    forks_count: int | None = None
    open_issues_count: int | None = None


class CreateIssueInput(BaseModel):
    project_id: int
    title: str = Field(min_length=1)
    description: str | None = None
    labels: str | None = None
    """Comma-separated label names."""
    confidential: bool | None = None
    assignee_ids: list[int] | None = None
    milestone_id: int | None = None
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    issue_type: str | None = None
    """issue, incident, test_case or task (GitLab's default: issue)."""


class CreateIssueOutput(BaseModel):
    id: str
    iid: int
    project_id: int
    title: str
    description: str | None = None
    state: str
    created_at: str
    updated_at: str
    labels: list[str]
    web_url: str
    confidential: bool | None = None
