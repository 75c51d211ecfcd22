from nango_scripts import NangoAction, action

from ..helpers import TASK_FIELDS, to_task
from ..models import CreateAsanaTask, Task


@action(
    name="create-task",
    input=CreateAsanaTask,
    output=Task,
    scopes=["tasks:write"],
    description="Create a task in a workspace, a project or under a parent task, and return "
    "it as a Task.",
    version="1.0.0",
)
async def create_task(nango: NangoAction, input: CreateAsanaTask) -> Task:
    # opt_fields: the same fields the tasks sync reads, so both give the same Task.
    # https://developers.asana.com/reference/createtask
    response = await nango.post(
        "/api/1.0/tasks",
        params={"opt_fields": TASK_FIELDS},
        json={"data": input.model_dump(exclude_none=True)},
    )
    return to_task(response.json()["data"])
