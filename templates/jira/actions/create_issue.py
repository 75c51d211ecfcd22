from nango_scripts import NangoAction, action

from ..api import site_url
from ..models import CreateIssueInput, CreateIssueOutput


@action(
    name="create-issue",
    input=CreateIssueInput,
    output=CreateIssueOutput,
    scopes=["write:jira-work"],
    endpoint={"method": "POST", "path": "/actions/create-issue", "group": "Issues"},
    description="Creates an issue from Jira's own fields (project, issue type, summary, ...) "
    "and returns its id, key, API URL and page URL.",
    version="2.0.0",
)
async def create_issue(nango: NangoAction, input: CreateIssueInput) -> CreateIssueOutput:
    response = await nango.post("/rest/api/3/issue", json=input.model_dump(exclude_none=True))
    created = response.json()
    # Asked only once the issue exists, so a refused issue costs one request.
    site = await site_url(nango)
    return CreateIssueOutput(
        id=str(created["id"]),
        key=created["key"],
        self=created["self"],
        url=f"{site}/browse/{created['key']}",
        transition=created.get("transition"),
    )
