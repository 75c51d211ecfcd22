from nango_scripts import NangoSync, sync

from ..models import AsanaProject


@sync(
    name="projects",
    models=[AsanaProject],
    frequency="every hour",
    sync_type="full",
    track_deletes=True,
    scopes=["workspaces:read", "projects:read"],
    description="Every project of the user's workspaces.",
    version="1.0.0",
)
async def projects(nango: NangoSync) -> None:
    # https://developers.asana.com/reference/getworkspaces
    async for workspaces in nango.paginate("/api/1.0/workspaces"):
        for workspace in workspaces:
            # https://developers.asana.com/reference/getprojects
            async for page in nango.paginate(
                "/api/1.0/projects", params={"workspace": workspace["gid"]}
            ):
                found = [
                    AsanaProject(
                        gid=raw["gid"],
                        resource_type=raw["resource_type"],
                        name=raw["name"],
                        id=raw["gid"],
                    )
                    for raw in page
                ]
                await nango.batch_save(found, AsanaProject)
