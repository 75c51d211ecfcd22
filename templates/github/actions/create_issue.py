from typing import Any

from nango_scripts import NangoAction, action

from ..helpers import repo_path
from ..models import CreateIssueInput, CreateIssueOutput


def to_output(raw: dict[str, Any]) -> CreateIssueOutput:
    user = raw.get("user")
    milestone = raw.get("milestone")
    return CreateIssueOutput(
        id=str(raw["id"]),
        node_id=raw["node_id"],
        url=raw["url"],
        html_url=raw["html_url"],
        number=raw["number"],
        state=raw["state"],
        state_reason=raw.get("state_reason"),
        title=raw["title"],
        body=raw.get("body"),
        user_login=user["login"] if user else None,
        labels=[label["name"] for label in raw.get("labels") or []],
        assignees=[assignee["login"] for assignee in raw.get("assignees") or []],
        milestone_number=milestone["number"] if milestone else None,
        locked=raw["locked"],
        comments=raw["comments"],
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        closed_at=raw.get("closed_at"),
    )


@action(
    name="create-issue",
    input=CreateIssueInput,
    output=CreateIssueOutput,
    scopes=["repo"],
    description="Open a new issue in a repository.",
    version="1.0.0",
)
async def create_issue(nango: NangoAction, input: CreateIssueInput) -> CreateIssueOutput:
    # Fields the caller left unset are not sent, so GitHub applies its own defaults.
    body = input.model_dump(exclude={"owner", "repo"}, exclude_none=True)
    # https://docs.github.com/en/rest/issues/issues#create-an-issue
    response = await nango.post(f"{repo_path(input.owner, input.repo)}/issues", json=body)
    return to_output(response.json())
