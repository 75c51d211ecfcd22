from typing import Any

from nango_scripts import NangoSync, Offset, sync

from ..models import Project, ProjectCategory, ProjectLead


def to_project(raw: dict[str, Any]) -> Project:
    lead = raw.get("lead")
    category = raw.get("projectCategory")
    return Project(
        id=raw["id"],
        key=raw["key"],
        name=raw["name"],
        project_type_key=raw.get("projectTypeKey"),
        simplified=raw.get("simplified"),
        style=raw.get("style"),
        is_private=raw.get("isPrivate"),
        entity_id=raw.get("entityId"),
        uuid=raw.get("uuid"),
        lead=ProjectLead(account_id=lead.get("accountId"), display_name=lead.get("displayName"))
        if lead
        else None,
        url=raw.get("url"),
        project_category=ProjectCategory(
            id=category["id"], name=category["name"], description=category.get("description")
        )
        if category
        else None,
        avatar_urls=raw.get("avatarUrls"),
    )


@sync(
    name="projects",
    endpoints=[{"method": "GET", "path": "/syncs/projects"}],
    models=[Project],
    frequency="every hour",
    sync_type="full",
    track_deletes=True,
    scopes=["read:jira-work"],
    description="Every project the user can browse, with its lead and category.",
    version="2.0.0",
)
async def projects(nango: NangoSync) -> None:
    # project/search leaves the lead and the project URL out unless expanded.
    async for page in nango.paginate(
        "/rest/api/3/project/search", params={"expand": "lead,url"}, paginate=Offset(limit=50)
    ):
        await nango.batch_save([to_project(raw) for raw in page], Project)
