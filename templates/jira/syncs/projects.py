from nango_scripts import NangoSync, Offset, sync

from ..api import site_url
from ..models import Project


@sync(
    name="projects",
    models=[Project],
    frequency="every day",
    sync_type="full",
    track_deletes=True,
    scopes=["read:jira-work"],
    description="Fetches a list of projects from Jira",
    version="1.0.0",
)
async def projects(nango: NangoSync) -> None:
    site = await site_url(nango)
    # The catalogue's default (startAt/maxResults over `values`) fits project/search.
    async for page in nango.paginate("/rest/api/3/project/search", paginate=Offset(limit=50)):
        await nango.batch_save(
            [
                Project(
                    id=raw["id"],
                    key=raw["key"],
                    name=raw["name"],
                    url=raw["self"],
                    projectTypeKey=raw["projectTypeKey"],
                    webUrl=f"{site}/browse/{raw['key']}",
                )
                for raw in page
            ],
            Project,
        )
