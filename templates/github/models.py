"""Models of the GitHub templates: Nango's names, fields and optionality."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

# --------------------------------------------------------------------------- metadata


class RepositoryRef(BaseModel):
    owner: str
    repo: str


class IssuesMetadata(BaseModel):
    """Connection metadata of `issues`: the repositories to read (all of the user's if unset)."""

    repositories: list[RepositoryRef] | None = None


class PullRequestsMetadata(BaseModel):
    """Connection metadata of `pull-requests`: "owner/repo" names (all of the user's if unset)."""

    repos: list[str] | None = None

    @field_validator("repos")
    @classmethod
    def _owner_slash_repo(cls, repos: list[str] | None) -> list[str] | None:
        for full_name in repos or []:
            owner, _, repo = full_name.partition("/")
            if not owner or not repo or "/" in repo:
                raise ValueError(f"{full_name!r} is not of the form owner/repo")
        return repos


# --------------------------------------------------------------------------- issues


class IssueLabel(BaseModel):
    id: int
    name: str
    color: str
    description: str | None = None


class IssueUser(BaseModel):
    id: int
    login: str


class Issue(BaseModel):
    id: str
    node_id: str
    number: int
    state: str
    state_reason: str | None = None
    title: str
    body: str | None = None
    html_url: str
    repository_url: str
    user_id: int | None = None
    user_login: str | None = None
    labels: list[IssueLabel] | None = None
    assignee_id: int | None = None
    assignee_login: str | None = None
    assignees: list[IssueUser] | None = None
    milestone_id: int | None = None
    milestone_number: int | None = None
    milestone_title: str | None = None
    milestone_state: str | None = None
    comments_count: int | None = None
    locked: bool | None = None
    created_at: str
    updated_at: str
    closed_at: str | None = None
    closed_by_id: int | None = None
    closed_by_login: str | None = None


# --------------------------------------------------------------------------- pull requests


class PullRequestLabel(BaseModel):
    id: int
    name: str
    color: str
    description: str | None = None


class PullRequestUser(BaseModel):
    login: str
    id: int


class PullRequest(BaseModel):
    id: str
    number: int
    state: str
    title: str
    body: str | None = None
    user_login: str | None = None
    user_id: int | None = None
    created_at: str
    updated_at: str
    closed_at: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    html_url: str
    repo_full_name: str
    labels: list[PullRequestLabel]
    assignees: list[PullRequestUser]
    requested_reviewers: list[PullRequestUser]


# --------------------------------------------------------------------------- repositories


class Repository(BaseModel):
    id: str
    name: str
    full_name: str
    owner_login: str
    owner_id: str
    owner_type: str
    private: bool
    visibility: str | None = None
    html_url: str
    description: str | None = None
    fork: bool
    default_branch: str
    created_at: str | None = None
    updated_at: str | None = None
    pushed_at: str | None = None
    homepage: str | None = None
    language: str | None = None
    size: int
    forks_count: int
    stargazers_count: int
    open_issues_count: int
    archived: bool | None = None
    disabled: bool | None = None


# --------------------------------------------------------------------------- create-issue


class CreateIssueInput(BaseModel):
    owner: str = Field(min_length=1)
    repo: str = Field(min_length=1)
    title: str = Field(min_length=1)
    body: str | None = None
    assignees: list[str] | None = None
    labels: list[str] | None = None
    milestone: int | str | None = None


class CreateIssueOutput(BaseModel):
    id: str
    node_id: str
    url: str
    html_url: str
    number: int
    state: str
    state_reason: str | None = None
    title: str
    body: str | None = None
    user_login: str | None = None
    labels: list[str]
    assignees: list[str]
    milestone_number: int | None = None
    locked: bool
    comments: int
    created_at: str
    updated_at: str
    closed_at: str | None = None
