from tracker.models import Issue, NewIssue

from nango_scripts import ActionError, NangoAction, action


@action(input=NewIssue, output=Issue, description="Create an issue in the tracker")
async def create_issue(nango: NangoAction, input: NewIssue) -> Issue:
    if not input.title.strip():
        raise ActionError({"message": "an issue needs a title", "field": "title"})
    response = await nango.post("/issues", json=input.model_dump())
    return Issue.model_validate(response.json())
