from typing import Any

from nango_scripts import NangoAction, action

from ..models import CreateIssueInput, CreateIssueOutput


def to_fields(input: CreateIssueInput) -> dict[str, Any]:
    # A project is named by id; a key (ENG) is accepted too, as Jira does.
    project = {"id": input.project} if input.project.isdigit() else {"key": input.project}
    fields: dict[str, Any] = {
        "summary": input.summary,
        "project": project,
        "issuetype": {"id": input.issueType},
    }
    if input.description:
        # API v3 takes rich text as an Atlassian Document: one paragraph of plain text.
        fields["description"] = {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": input.description}]}
            ],
        }
    if input.assignee:
        fields["assignee"] = {"accountId": input.assignee}
    if input.labels:
        fields["labels"] = input.labels
    return fields


@action(
    name="create-issue",
    input=CreateIssueInput,
    output=CreateIssueOutput,
    scopes=["write:jira-work"],
    description="An action that creates an Issue on Jira",
    version="1.0.0",
)
async def create_issue(nango: NangoAction, input: CreateIssueInput) -> CreateIssueOutput:
    response = await nango.post("/rest/api/3/issue", json={"fields": to_fields(input)})
    created = response.json()
    return CreateIssueOutput(id=str(created["id"]), key=created["key"], self=created["self"])
