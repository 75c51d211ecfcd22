from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..api import iso, jql_time, site_url, user_time_zone
from ..models import Author, Comment, Issue, JiraIssueMetadata

FIELDS = "summary,issuetype,status,assignee,project,created,updated,comment"


def to_author(raw: dict[str, Any] | None) -> Author:
    if not raw:  # a deleted or anonymous author
        return Author(accountId=None, active=False, displayName="unknown", emailAddress=None)
    return Author(
        accountId=raw.get("accountId"),
        active=bool(raw.get("active")),
        displayName=raw.get("displayName") or "unknown",
        emailAddress=raw.get("emailAddress"),
    )


def to_issue(raw: dict[str, Any], site: str) -> Issue:
    fields = raw["fields"]
    comments = (fields.get("comment") or {}).get("comments") or []
    return Issue(
        id=raw["id"],
        createdAt=iso(fields["created"]),
        updatedAt=iso(fields["updated"]),
        key=raw["key"],
        summary=fields["summary"],
        issueType=fields["issuetype"]["name"],
        status=fields["status"]["name"],
        # Null too when the assignee hides their email (Atlassian profile privacy).
        assignee=(fields.get("assignee") or {}).get("emailAddress"),
        url=raw["self"],
        webUrl=f"{site}/browse/{raw['key']}",
        projectId=fields["project"]["id"],
        projectKey=fields["project"]["key"],
        projectName=fields["project"]["name"],
        comments=[
            Comment(
                id=c["id"],
                createdAt=iso(c["created"]),
                updatedAt=iso(c["updated"]),
                author=to_author(c.get("author")),
                body=c.get("body") or {},
            )
            for c in comments
        ],
    )


@sync(
    name="issues",
    models=[Issue],
    frequency="every 5 minutes",
    sync_type="incremental",
    auto_start=False,
    metadata=JiraIssueMetadata,
    scopes=["read:jira-work"],
    description="Fetches a list of issues from Jira",
    version="1.0.0",
)
async def issues(nango: NangoSync) -> None:
    metadata = JiraIssueMetadata.model_validate(await nango.get_metadata())
    projects = ", ".join(f'"{p.id.strip()}"' for p in metadata.projectIdsToSync)
    jql = f"project in ({projects})"
    if nango.last_sync_date is not None:
        # JQL reads dates in the connected user's time zone, to the minute.
        zone = await user_time_zone(nango)
        jql += f' AND updated >= "{jql_time(nango.last_sync_date, zone)}"'
    site = await site_url(nango)
    async for page in nango.paginate(
        "/rest/api/3/search/jql",
        params={"jql": f"{jql} ORDER BY updated ASC", "fields": FIELDS},
        paginate=Cursor(
            cursor_path_in_response="nextPageToken",
            cursor_name_in_request="nextPageToken",
            response_path="issues",
            limit=50,
            limit_name_in_request="maxResults",
        ),
    ):
        await nango.batch_save([to_issue(raw, site) for raw in page], Issue)
