from typing import Any

from nango_scripts import NangoAction, action

from ..models import CreatePageInput, CreatePageOutput, PageBlock, PageParent


def to_parent(parent: PageParent) -> dict[str, Any]:
    if parent.page_id:
        return {"type": "page_id", "page_id": parent.page_id}
    if parent.database_id:
        return {"type": "database_id", "database_id": parent.database_id}
    if parent.data_source_id:
        return {"type": "data_source_id", "data_source_id": parent.data_source_id}
    return {"type": "workspace", "workspace": True}


def to_block(block: PageBlock) -> dict[str, Any]:
    content: dict[str, Any] = {"rich_text": [{"type": "text", "text": {"content": block.text}}]}
    if block.type == "to_do":
        content["checked"] = bool(block.checked)
    return {"object": "block", "type": block.type, block.type: content}


@action(
    name="create-page",
    input=CreatePageInput,
    output=CreatePageOutput,
    scopes=["insert_content"],
    endpoint={"method": "POST", "path": "/actions/create-page", "group": "Pages"},
    description="Create a new Notion page with properties and optional children.",
    version="1.0.0",
)
async def create_page(nango: NangoAction, input: CreatePageInput) -> CreatePageOutput:
    properties = dict(input.properties or {})
    if input.title is not None:
        # "title" is the id of every page's and every database's title property.
        properties["title"] = {"title": [{"type": "text", "text": {"content": input.title}}]}
    body: dict[str, Any] = {"parent": to_parent(input.parent), "properties": properties}
    if input.icon:
        body["icon"] = input.icon.model_dump(exclude_none=True)
    if input.cover:
        body["cover"] = input.cover.model_dump(exclude_none=True)
    if input.children:
        body["children"] = [to_block(block) for block in input.children]
    if input.markdown:
        body["markdown"] = input.markdown
    if input.template:
        body["template"] = input.template.model_dump(exclude_none=True)

    # https://developers.notion.com/reference/post-page
    response = await nango.post("/v1/pages", json=body)
    return CreatePageOutput.model_validate(response.json())
