"""Linear models, with the names and fields of Nango's linear templates."""

from pydantic import BaseModel, Field


class LinearIssue(BaseModel):
    id: str
    assigneeId: str | None = None
    creatorId: str | None = None
    createdAt: str
    updatedAt: str
    description: str | None = None
    dueDate: str | None = None
    projectId: str | None = None
    teamId: str
    title: str
    status: str
    estimate: str | None = None


class LinearTeam(BaseModel):
    id: str
    name: str
    description: str | None = None
    createdAt: str
    updatedAt: str


class LinearUser(BaseModel):
    id: str
    admin: bool
    email: str
    firstName: str
    lastName: str | None = None
    avatarUrl: str | None = None


class CreateIssue(BaseModel):
    teamId: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str | None = None
    projectId: str | None = None
    milestoneId: str | None = None
    assigneeId: str | None = None
    priority: int | None = Field(default=None, ge=0, le=4)
    parentId: str | None = None
    estimate: int | None = None
    dueDate: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
