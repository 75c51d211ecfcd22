from typing import Any

from nango_scripts import NangoSync, sync

from ..models import Project, ProjectsMetadata

# Every Project field, each asked for by name: Asana sends only gid and name otherwise.
OPT_FIELDS = (
    "gid,name,archived,color,created_at,modified_at,notes,public,permalink_url,completed,"
    "completed_at,due_on,start_on,workspace,team,owner"
)


def to_project(raw: dict[str, Any]) -> dict[str, Any]:
    # A dict, not a Project: batch_save then skips (and logs) a malformed one alone, as
    # Nango skips a project its schema refuses. Keys Asana adds (resource_type) are dropped.
    return {**raw, "id": raw.get("gid")}


# The project lists have no "modified since" filter: every run reads them all and a
# project missing from a complete run is marked deleted.
@sync(
    name="projects",
    models=[Project],
    frequency="every hour",
    sync_type="full",
    track_deletes=True,
    metadata=ProjectsMetadata,
    scopes=["workspaces:read", "projects:read", "teams:read"],
    endpoints=[{"method": "GET", "path": "/syncs/projects"}],
    description="Sync projects for workspaces or teams in scope (the metadata's workspace_ids "
    "and team_ids, or every workspace of the user).",
    version="1.0.0",
)
async def projects(nango: NangoSync) -> None:
    metadata = ProjectsMetadata.model_validate(await nango.get_metadata())
    workspace_ids = metadata.workspace_ids or []
    team_ids = metadata.team_ids or []
    if not workspace_ids and not team_ids:
        # https://developers.asana.com/reference/getworkspaces
        response = await nango.get("/api/1.0/workspaces")
        workspace_ids = [workspace["gid"] for workspace in response.json().get("data") or []]
    if not workspace_ids and not team_ids:
        nango.log("No workspaces or teams found for this connection: nothing to sync")
        return

    endpoints = [f"/api/1.0/workspaces/{gid}/projects" for gid in workspace_ids] + [
        f"/api/1.0/teams/{gid}/projects" for gid in team_ids
    ]
    for endpoint in endpoints:
        # https://developers.asana.com/reference/getprojectsforworkspace
        # https://developers.asana.com/reference/getprojectsforteam
        async for page in nango.paginate(endpoint, params={"opt_fields": OPT_FIELDS}):
            await nango.batch_save([to_project(raw) for raw in page], Project)
