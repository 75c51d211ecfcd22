"""Linear models, with the names and fields of Nango's current linear templates."""

from pydantic import BaseModel, Field

# --------------------------------------------------------------------------- issues


class IssuesMetadata(BaseModel):
    """Optional connection metadata of `issues`: only this team's / project's issues."""

    # Nango accepts a number too and reads it as a string.
    teamId: str | int | None = None
    projectId: str | int | None = None


class IssueState(BaseModel):
    id: str
    name: str
    color: str | None = None


class IssueAssignee(BaseModel):
    id: str
    name: str
    email: str | None = None


class IssueTeam(BaseModel):
    id: str
    name: str
    key: str | None = None


class IssueLabel(BaseModel):
    id: str
    name: str
    color: str | None = None


class IssueProject(BaseModel):
    id: str
    name: str
    state: str | None = None


class IssueCycle(BaseModel):
    id: str
    # Nango requires it, but Linear leaves most cycles unnamed ("Cycle 12" is the UI's).
    name: str | None = None


class Issue(BaseModel):
    id: str
    identifier: str
    title: str
    description: str | None = None
    updatedAt: str
    createdAt: str
    archivedAt: str | None = None
    trashed: bool | None = None
    state: IssueState | None = None
    assignee: IssueAssignee | None = None
    team: IssueTeam | None = None
    labels: list[IssueLabel] | None = None
    project: IssueProject | None = None
    cycle: IssueCycle | None = None
    url: str | None = None
    # A GraphQL Float in Linear (0 none, 1 urgent ... 4 low); int keeps whole values as sent.
    priority: int | float | None = None


# --------------------------------------------------------------------------- teams


class Team(BaseModel):
    id: str
    name: str | None = None
    key: str | None = None
    description: str | None = None
    color: str | None = None
    icon: str | None = None
    private: bool | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    archivedAt: str | None = None


# --------------------------------------------------------------------------- users


class User(BaseModel):
    id: str
    name: str | None = None
    email: str | None = None
    avatarUrl: str | None = None
    active: bool | None = None
    displayName: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


# --------------------------------------------------------------------------- create-issue


class CreateIssueInput(BaseModel):
    teamId: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str | None = None
    priority: int | None = Field(default=None, ge=0, le=4)
    stateId: str | None = None
    assigneeId: str | None = None
    cycleId: str | None = None
    labelIds: list[str] | None = None
    projectId: str | None = None


class CreateIssueOutput(BaseModel):
    id: str
    identifier: str | None = None
    title: str | None = None
    url: str | None = None
    description: str | None = None
    priority: int | None = None
    stateId: str | None = None
    assigneeId: str | None = None
    teamId: str | None = None
    cycleId: str | None = None
    projectId: str | None = None
