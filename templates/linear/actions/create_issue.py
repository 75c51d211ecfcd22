from typing import Any

from nango_scripts import ActionError, NangoAction, action

from ..api import LinearGraphQLError, graphql
from ..models import CreateIssueInput, CreateIssueOutput

MUTATION = """
mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) {
    success
    issue {
      id
      identifier
      title
      url
      description
      priority
      state { id }
      assignee { id }
      team { id }
      cycle { id }
      project { id }
    }
  }
}
"""


def _id_of(node: dict[str, Any] | None) -> str | None:
    return node["id"] if node else None


@action(
    name="create-issue",
    input=CreateIssueInput,
    output=CreateIssueOutput,
    scopes=["write"],
    endpoint={"method": "POST", "path": "/actions/create-issue", "group": "Issues"},
    description="Creates an issue in a team, with optional description, priority, state, "
    "assignee, cycle, labels and project, and returns it.",
    version="2.0.0",
)
async def create_issue(nango: NangoAction, input: CreateIssueInput) -> CreateIssueOutput:
    # The input's names are IssueCreateInput's own.
    issue_input = input.model_dump(exclude_none=True)
    try:
        data = await graphql(nango, MUTATION, {"input": issue_input})
    except LinearGraphQLError as error:
        raise ActionError({"message": str(error), "errors": error.errors}) from None
    result = data["issueCreate"]
    issue = result.get("issue")
    if not result.get("success") or not issue:
        raise ActionError({"message": "Linear did not create the issue"})
    return CreateIssueOutput(
        id=issue["id"],
        identifier=issue.get("identifier"),
        title=issue.get("title"),
        url=issue.get("url"),
        description=issue.get("description"),
        priority=issue.get("priority"),
        stateId=_id_of(issue.get("state")),
        assigneeId=_id_of(issue.get("assignee")),
        teamId=_id_of(issue.get("team")),
        cycleId=_id_of(issue.get("cycle")),
        projectId=_id_of(issue.get("project")),
    )
