import json
from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..models import SlackChannel, SlackChannelsMetadata

# Without the charset Slack answers ok with a "missing_charset" warning.
JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}


def to_channel(raw: dict[str, Any]) -> dict[str, Any]:
    # A dict, not a SlackChannel: batch_save then skips (and logs) a malformed one alone.
    return dict(
        id=raw.get("id"),
        name=raw.get("name"),
        is_channel=raw.get("is_channel"),
        is_group=raw.get("is_group"),
        is_im=raw.get("is_im"),
        created=raw.get("created"),
        creator=raw.get("creator"),
        is_archived=raw.get("is_archived"),
        is_general=raw.get("is_general"),
        name_normalized=raw.get("name_normalized"),
        is_shared=raw.get("is_shared"),
        is_private=raw.get("is_private"),
        is_mpim=raw.get("is_mpim"),
        updated=raw.get("updated"),
        num_members=raw.get("num_members", 0),
        raw_json=json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
    )


@sync(
    name="channels",
    endpoints=[{"method": "GET", "path": "/syncs/channels", "group": "Channels"}],
    models=[SlackChannel],
    frequency="every hour",
    sync_type="full",
    # conversations.list has no "changed since" filter; deleted channels just disappear.
    track_deletes=True,
    metadata=SlackChannelsMetadata,
    scopes=["channels:read", "channels:join"],
    description=(
        "Syncs information about all public Slack channels. If the connection metadata "
        "sets joinPublicChannels to true, the bot also joins every public channel it is "
        "not a member of yet (needs channels:join)."
    ),
    version="1.0.0",
)
async def channels(nango: NangoSync) -> None:
    metadata = SlackChannelsMetadata.model_validate(await nango.get_metadata())
    to_join: list[str] = []

    # https://api.slack.com/methods/conversations.list
    async for page in nango.paginate(
        "/conversations.list", paginate=Cursor(response_path="channels", limit=200)
    ):
        await nango.batch_save([to_channel(raw) for raw in page], SlackChannel)
        if metadata.joinPublicChannels:
            to_join += [
                raw["id"]
                for raw in page
                # Archived channels cannot be joined; shared ones belong to other teams too.
                if not any(raw.get(flag) for flag in ("is_member", "is_private", "is_shared"))
                and not raw.get("is_archived")
            ]

    for channel_id in to_join:
        # https://api.slack.com/methods/conversations.join
        response = await nango.post(
            "/conversations.join", json={"channel": channel_id}, headers=JSON_UTF8
        )
        body = response.json()
        if not body.get("ok"):
            # The channels are saved already; a refused join must not fail the sync.
            nango.log(
                f"could not join channel {channel_id}: {body.get('error')}",
                level="warning",
                channel=channel_id,
            )
