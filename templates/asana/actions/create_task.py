from typing import Any

from nango_scripts import NangoAction, action

from ..models import CreateAsanaTask, CreateTaskOutput


def gid_of(value: dict[str, Any] | None) -> str | None:
    return value["gid"] if value else None


def to_output(raw: dict[str, Any]) -> CreateTaskOutput:
    projects = raw.get("projects")
    return CreateTaskOutput(
        id=raw["gid"],
        name=raw["name"],
        workspace_id=gid_of(raw.get("workspace")),
        project_ids=None if projects is None else [project["gid"] for project in projects],
        parent_id=gid_of(raw.get("parent")),
        assignee_id=gid_of(raw.get("assignee")),
        notes=raw.get("notes"),
        due_on=raw.get("due_on"),
        due_at=raw.get("due_at"),
        completed=raw.get("completed"),
    )


@action(
    name="create-task",
    input=CreateAsanaTask,
    output=CreateTaskOutput,
    scopes=["tasks:write"],
    endpoint={"method": "POST", "path": "/actions/create-task", "group": "Tasks"},
    description="Create a task in Asana.",
    version="1.0.0",
)
async def create_task(nango: NangoAction, input: CreateAsanaTask) -> CreateTaskOutput:
    # The fields the caller gave, explicit nulls included (they clear a parent, an
    # assignee or a due date); the others are left to Asana's defaults.
    # https://developers.asana.com/reference/createtask
    response = await nango.post(
        "/api/1.0/tasks", json={"data": input.model_dump(exclude_unset=True)}
    )
    return to_output(response.json()["data"])
