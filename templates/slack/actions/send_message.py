import json

from nango_scripts import ActionError, NangoAction, action

from ..models import SendMessageInput, SendMessageOutput


@action(
    name="send-message",
    input=SendMessageInput,
    output=SendMessageOutput,
    scopes=["channels:read", "chat:write"],
    endpoint={"method": "POST", "path": "/actions/send-message", "group": "Messages"},
    description="An action that sends a message to a slack channel.",
    version="1.0.0",
)
async def send_message(nango: NangoAction, input: SendMessageInput) -> SendMessageOutput:
    # https://api.slack.com/methods/chat.postMessage
    response = await nango.post(
        "/chat.postMessage",
        json={"channel": input.channel, "text": input.text},
        # Without the charset Slack answers ok with a "missing_charset" warning.
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    body = response.json()
    raw_json = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if not body.get("ok"):
        # Slack reports failures as HTTP 200 with ok=false: fail the action with them.
        raise ActionError(
            {
                "type": "slack_error",
                "message": f"Slack did not post the message: {body.get('error')}",
                "ok": False,
                "error": body.get("error"),
                "raw_json": raw_json,
            }
        )
    return SendMessageOutput(
        ok=True,
        channel=body.get("channel"),
        ts=body.get("ts"),
        message=(body.get("message") or {}).get("text"),
        warning=body.get("warning"),
        raw_json=raw_json,
    )
