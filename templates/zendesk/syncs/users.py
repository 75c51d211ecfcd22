from typing import Any

from nango_scripts import NangoSync, sync

from ..models import User


def to_user(raw: dict[str, Any]) -> User:
    # Nango's split: the first two words of the name on single spaces, the rest dropped.
    words = (raw.get("name") or "").split(" ")
    return User(
        id=str(raw["id"]),
        firstName=words[0],
        lastName=words[1] if len(words) > 1 else "",
        email=raw.get("email") or "",
    )


@sync(
    name="users",
    models=[User],
    frequency="every 6 hours",
    sync_type="full",
    track_deletes=True,
    scopes=["users:read"],
    endpoints=[{"method": "GET", "path": "/users"}],
    description="The admins and agents of the Zendesk account (end users are left out).",
    version="1.0.0",
)
async def users(nango: NangoSync) -> None:
    # Zendesk's cursor pagination says when it is done with meta.has_more; following
    # after_cursor past the last page would cost one more, empty, request.
    params: dict[str, Any] = {"role[]": ["agent", "admin"], "page[size]": 100}
    while True:
        # https://developer.zendesk.com/api-reference/ticketing/users/users/#list-users
        page = (await nango.get("/api/v2/users", params=params)).json()
        found = [to_user(raw) for raw in page.get("users") or []]
        if found:
            await nango.batch_save(found, User)
        meta = page.get("meta") or {}
        if not meta.get("has_more") or not meta.get("after_cursor"):
            break
        params = {**params, "page[after]": meta["after_cursor"]}
