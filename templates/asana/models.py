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


class AsanaProject(BaseModel):
    gid: str
    resource_type: str
    name: str
    id: str


# --------------------------------------------------------------------------- create-task


class CreateAsanaTask(BaseModel):
    name: str = Field(min_length=1)
    workspace: str | None = None
    parent: str | None = None
    projects: list[str] | None = None

    @model_validator(mode="after")
    def _somewhere_to_put_it(self) -> CreateAsanaTask:
        # Asana needs to know where the task lives before it can create it.
        if not (self.workspace or self.parent or self.projects):
            raise ValueError("give one of workspace, parent or projects")
        return self
