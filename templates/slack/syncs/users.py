import json
from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..models import SlackUser


def to_user(raw: dict[str, Any]) -> dict[str, Any]:
    # A dict, not a SlackUser: batch_save then skips (and logs) a malformed user alone.
    profile = raw.get("profile") or {}
    return dict(
        id=raw.get("id"),
        team_id=raw.get("team_id"),
        name=raw.get("name"),
        deleted=raw.get("deleted", False),
        tz=raw.get("tz"),
        tz_label=raw.get("tz_label"),
        tz_offset=raw.get("tz_offset"),
        profile={
            "avatar_hash": profile.get("avatar_hash"),
            # Slack sends "" for a name or email the user never filled in: store null.
            "real_name": profile.get("real_name") or None,
            "display_name": profile.get("display_name") or None,
            "real_name_normalized": profile.get("real_name_normalized") or None,
            "display_name_normalized": profile.get("display_name_normalized") or None,
            "email": profile.get("email") or None,
            "image_original": profile.get("image_original")
            if profile.get("is_custom_image")
            else None,
        },
        # Slack leaves out the flags that are false for bots and guests.
        is_admin=raw.get("is_admin", False),
        is_owner=raw.get("is_owner", False),
        is_primary_owner=raw.get("is_primary_owner", False),
        is_restricted=raw.get("is_restricted", False),
        is_ultra_restricted=raw.get("is_ultra_restricted", False),
        is_bot=raw.get("is_bot", False),
        updated=raw.get("updated"),
        is_app_user=raw.get("is_app_user", False),
        raw_json=json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
    )


@sync(
    name="users",
    endpoints=[{"method": "GET", "path": "/syncs/users", "group": "Users"}],
    models=[SlackUser],
    frequency="every hour",
    sync_type="full",
    # users.list has no "changed since" filter; a user missing from a complete run is gone.
    track_deletes=True,
    scopes=["users:read", "users:read.email"],
    description="Syncs information about all Users on the Slack workspace",
    version="1.0.0",
)
async def users(nango: NangoSync) -> None:
    # https://api.slack.com/methods/users.list
    async for page in nango.paginate(
        "/users.list", paginate=Cursor(response_path="members", limit=200)
    ):
        # Deactivated accounts come back with most fields stripped (no tz, no roles);
        # leaving them out lets track_deletes mark them DELETED.
        active = [to_user(raw) for raw in page if not raw.get("deleted")]
        await nango.batch_save(active, SlackUser)
