"""Models of the Asana templates: Nango's names, fields and optionality."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

# --------------------------------------------------------------------------- tasks


class User(BaseModel):
    created_at: str | None = None
    modified_at: str | None = None
    id: str
    name: str
    email: str | None = None
    avatar_url: str | None = None


class Task(BaseModel):
    created_at: str | None = None
    modified_at: str | None = None
    id: str
    title: str
    url: str
    status: str
    """"completed" or "open"."""
    description: str | None = None
    assignee: User | None = None
    due_date: str | None = None


# --------------------------------------------------------------------------- projects


class ProjectsMetadata(BaseModel):
    """Connection metadata of `projects`: where to list projects (every workspace if unset)."""

    workspace_ids: list[str] | None = None
    team_ids: list[str] | None = None


class ProjectRef(BaseModel):
    gid: str
    name: str


class Project(BaseModel):
    id: str
    """The project's gid."""
    gid: str
    name: str
    archived: bool | None = None
    color: str | None = None
    created_at: str | None = None
    modified_at: str | None = None
    notes: str | None = None
    public: bool | None = None
    permalink_url: str | None = None
    completed: bool | None = None
    completed_at: str | None = None
    due_on: str | None = None
    start_on: str | None = None
    workspace: ProjectRef | None = None
    team: ProjectRef | None = None
    owner: ProjectRef | None = None


# --------------------------------------------------------------------------- create-task


class CreateAsanaTask(BaseModel):
    name: str = Field(min_length=1)
    workspace: str | None = None
    projects: list[str] | None = None
    # An explicit null is sent as null ("no parent", "no assignee", "no due date").
    parent: str | None = None
    assignee: str | None = None
    notes: str | None = None
    due_on: str | None = None
    """YYYY-MM-DD."""
    due_at: str | None = None
    """ISO 8601 date and time."""
    completed: bool | None = None

    @model_validator(mode="after")
    def _somewhere_to_put_it(self) -> CreateAsanaTask:
        # Asana needs to know where the task lives before it can create it.
        if not (self.workspace or self.parent or self.projects):
            raise ValueError("give one of workspace, parent or projects")
        return self


class CreateTaskOutput(BaseModel):
    id: str
    name: str
    workspace_id: str | None = None
    project_ids: list[str] | None = None
    parent_id: str | None = None
    assignee_id: str | None = None
    notes: str | None = None
    due_on: str | None = None
    due_at: str | None = None
    completed: bool | None = None
