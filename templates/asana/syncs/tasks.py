from datetime import UTC

from nango_scripts import NangoSync, sync

from ..helpers import TASK_FIELDS, to_task
from ..models import Task


@sync(
    name="tasks",
    models=[Task],
    frequency="every hour",
    sync_type="incremental",
    scopes=["workspaces:read", "projects:read", "tasks:read", "users:read"],
    endpoints=[{"method": "GET", "path": "/syncs/tasks"}],
    description="Every task of every project in the user's workspaces; later runs fetch only "
    "the tasks modified since the last run.",
    version="1.0.0",
)
async def tasks(nango: NangoSync) -> None:
    params = {"opt_fields": TASK_FIELDS}
    if nango.last_sync_date is not None:
        since = nango.last_sync_date
        if since.tzinfo is None:  # a naive last sync date is UTC
            since = since.replace(tzinfo=UTC)
        params["modified_since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    # https://developers.asana.com/reference/getworkspaces
    async for workspaces in nango.paginate("/api/1.0/workspaces"):
        for workspace in workspaces:
            # https://developers.asana.com/reference/getprojects
            async for projects in nango.paginate(
                "/api/1.0/projects", params={"workspace": workspace["gid"]}
            ):
                for project in projects:
                    # https://developers.asana.com/reference/gettasks
                    async for page in nango.paginate(
                        "/api/1.0/tasks", params={**params, "project": project["gid"]}
                    ):
                        await nango.batch_save([to_task(raw) for raw in page], Task)
