import re
from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..api import jql_time, site_url, user_time_zone
from ..models import Issue, JiraIssueMetadata

FIELDS = (
    "summary,description,status,issuetype,priority,project,reporter,assignee,creator,"
    "created,updated,labels"
)

# The enhanced search refuses an unbounded JQL; this bound lets a first run without a
# filter read every issue.
EVERYTHING = 'updated >= "1970-01-01"'

_ORDER_BY = re.compile(r"\s+ORDER\s+BY\s.*$", re.IGNORECASE | re.DOTALL)


def _name(value: dict[str, Any] | None) -> str | None:
    return value.get("name") if value else None


def _account(value: dict[str, Any] | None) -> str | None:
    return value.get("accountId") if value else None


def to_issue(raw: dict[str, Any], site: str) -> Issue:
    fields = raw.get("fields") or {}
    project = fields.get("project") or {}
    return Issue(
        id=raw["id"],
        key=raw["key"],
        self=raw["self"],
        web_url=f"{site}/browse/{raw['key']}",
        summary=fields.get("summary"),
        description=fields.get("description"),
        status=_name(fields.get("status")),
        issue_type=_name(fields.get("issuetype")),
        priority=_name(fields.get("priority")),
        project_id=project.get("id"),
        project_key=project.get("key"),
        reporter_id=_account(fields.get("reporter")),
        assignee_id=_account(fields.get("assignee")),
        creator_id=_account(fields.get("creator")),
        created_at=fields.get("created"),
        updated_at=fields.get("updated"),
        labels=fields.get("labels"),
    )


def base_jql(metadata: JiraIssueMetadata) -> str:
    """The metadata's JQL without its ORDER BY (the sync orders by update itself)."""
    return _ORDER_BY.sub("", " " + (metadata.jql or "")).strip()


@sync(
    name="issues",
    models=[Issue],
    frequency="every hour",
    sync_type="incremental",
    metadata=JiraIssueMetadata,
    scopes=["read:jira-work"],
    endpoints=[{"method": "GET", "path": "/syncs/issues"}],
    description="Issues the user can see, or those matching the JQL in the metadata; later "
    "runs fetch only the issues updated since the last run.",
    version="2.0.0",
)
async def issues(nango: NangoSync) -> None:
    metadata = JiraIssueMetadata.model_validate(await nango.get_metadata())
    clauses = []
    if jql := base_jql(metadata):
        clauses.append(f"({jql})")
    if nango.last_sync_date is not None:
        # JQL reads dates in the connected user's time zone, to the minute.
        zone = await user_time_zone(nango)
        clauses.append(f'updated >= "{jql_time(nango.last_sync_date, zone)}"')
    elif not clauses:
        clauses.append(EVERYTHING)
    site = await site_url(nango)
    async for page in nango.paginate(
        "/rest/api/3/search/jql",
        params={"jql": " AND ".join(clauses) + " ORDER BY updated ASC", "fields": FIELDS},
        paginate=Cursor(
            cursor_path_in_response="nextPageToken",
            cursor_name_in_request="nextPageToken",
            response_path="issues",
            limit=50,
            limit_name_in_request="maxResults",
        ),
    ):
        if page:
            await nango.batch_save([to_issue(raw, site) for raw in page], Issue)
