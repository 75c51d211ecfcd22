"""Slack models: Nango's SlackUser, SlackChannel and send-message input/output."""

from pydantic import BaseModel


class SlackUserProfile(BaseModel):
    avatar_hash: str
    real_name: str | None
    display_name: str | None
    real_name_normalized: str | None
    display_name_normalized: str | None
    email: str | None
    # Only set when the user uploaded their own picture (Slack's default avatars are skipped).
    image_original: str | None = None


class SlackUser(BaseModel):
    id: str
    team_id: str
    name: str
    deleted: bool
    tz: str
    tz_label: str
    tz_offset: int
    profile: SlackUserProfile
    is_admin: bool
    is_owner: bool
    is_primary_owner: bool
    is_restricted: bool
    is_ultra_restricted: bool
    is_bot: bool
    updated: int
    is_app_user: bool
    raw_json: str


class SlackChannel(BaseModel):
    id: str
    name: str
    is_channel: bool
    is_group: bool
    is_im: bool
    created: int
    creator: str
    is_archived: bool
    is_general: bool
    name_normalized: str
    is_shared: bool
    is_private: bool
    is_mpim: bool
    updated: int
    num_members: int
    raw_json: str


class SlackChannelsMetadata(BaseModel):
    """Connection metadata read by the channels sync; every field is optional."""

    joinPublicChannels: bool = False


class SendMessageInput(BaseModel):
    channel: str
    text: str


class SendMessageOutput(BaseModel):
    ok: bool
    channel: str | None = None
    ts: str | None = None
    message: str | None = None
    warning: str | None = None
    error: str | None = None
    raw_json: str
