"""Small helpers shared by the GitLab syncs."""

from __future__ import annotations

from datetime import UTC, datetime

from nango_scripts import Link, NangoAction


def gitlab_timestamp(moment: datetime) -> str:
    """The ISO 8601 UTC form (`2026-11-01T08:00:00Z`) GitLab's date filters take."""
    if moment.tzinfo is None:  # a naive last sync date is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def member_project_ids(nango: NangoAction) -> list[int]:
    """Ids of the projects the connected user is a member of."""
    ids: list[int] = []
    # https://docs.gitlab.com/api/projects/#list-all-projects
    async for page in nango.paginate(
        "/api/v4/projects", params={"membership": "true"}, paginate=Link(limit=100)
    ):
        ids.extend(raw["id"] for raw in page)
    return ids
