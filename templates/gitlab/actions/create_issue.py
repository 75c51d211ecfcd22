from typing import Any

from nango_scripts import NangoAction, action

from ..models import CreateIssueInput, CreateIssueOutput


def to_output(raw: dict[str, Any]) -> CreateIssueOutput:
    return CreateIssueOutput(
        id=str(raw["id"]),
        iid=raw["iid"],
        project_id=raw["project_id"],
        title=raw["title"],
        description=raw.get("description"),
        state=raw["state"],
        created_at=raw["created_at"],
        updated_at=raw["updated_at"],
        labels=raw.get("labels") or [],
        web_url=raw["web_url"],
        confidential=raw.get("confidential"),
    )


@action(
    name="create-issue",
    input=CreateIssueInput,
    output=CreateIssueOutput,
    scopes=["api"],
    endpoint={"method": "POST", "path": "/actions/create-issue", "group": "Issues"},
    description="Create an issue in a GitLab project.",
    version="1.0.0",
)
async def create_issue(nango: NangoAction, input: CreateIssueInput) -> CreateIssueOutput:
    # Fields the caller left unset are not sent, so GitLab applies its own defaults.
    body = input.model_dump(exclude={"project_id"}, exclude_none=True)
    # https://docs.gitlab.com/api/issues/#new-issue
    response = await nango.post(f"/api/v4/projects/{input.project_id}/issues", json=body)
    return to_output(response.json())
