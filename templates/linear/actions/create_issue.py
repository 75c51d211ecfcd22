from nango_scripts import ActionError, NangoAction, action

from ..api import ISSUE_FIELDS, LinearGraphQLError, graphql, to_issue
from ..models import CreateIssue, LinearIssue

MUTATION = f"""
mutation IssueCreate($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{
    success
    issue {{ {ISSUE_FIELDS} }}
  }}
}}
"""

# Our input names -> Linear's IssueCreateInput names (Nango's milestoneId is a project milestone).
_FIELDS = {
    "teamId": "teamId",
    "title": "title",
    "description": "description",
    "projectId": "projectId",
    "milestoneId": "projectMilestoneId",
    "assigneeId": "assigneeId",
    "priority": "priority",
    "parentId": "parentId",
    "estimate": "estimate",
    "dueDate": "dueDate",
}


@action(
    name="create-issue",
    input=CreateIssue,
    output=LinearIssue,
    scopes=["issues:create"],
    description="Create an issue in Linear",
    version="1.0.0",
)
async def create_issue(nango: NangoAction, input: CreateIssue) -> LinearIssue:
    given = input.model_dump(exclude_none=True)
    issue_input = {_FIELDS[name]: value for name, value in given.items()}
    try:
        data = await graphql(nango, MUTATION, {"input": issue_input})
    except LinearGraphQLError as error:
        raise ActionError({"message": str(error), "errors": error.errors}) from None
    result = data["issueCreate"]
    if not result.get("success") or not result.get("issue"):
        raise ActionError({"message": "Linear did not create the issue"})
    return to_issue(result["issue"])
