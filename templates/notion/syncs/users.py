from typing import Any

from nango_scripts import Cursor, NangoSync, sync

from ..models import User


def to_user(raw: dict[str, Any]) -> User:
    # Nango's split: the first two words of the name on single spaces, the rest dropped.
    words = (raw.get("name") or "").split(" ")
    person = raw.get("person")
    return User(
        id=raw["id"],
        firstName=words[0],
        lastName=words[1] if len(words) > 1 else "",
        # "" for bots, as Nango gives it; people have an email only with the "read user
        # information including email addresses" capability.
        email=person.get("email") if person is not None else "",
        isBot="bot" in raw,
    )


@sync(
    name="users",
    models=[User],
    frequency="every day",
    sync_type="full",
    # GET /v1/users has no "changed since" filter; a user missing from a complete run left.
    track_deletes=True,
    endpoints=[{"method": "GET", "path": "/users", "group": "Users"}],
    description="Fetches a list of users from Notion",
    version="1.0.0",
)
async def users(nango: NangoSync) -> None:
    # https://developers.notion.com/reference/get-users
    async for page in nango.paginate("/v1/users", paginate=Cursor(in_body=False, limit=100)):
        await nango.batch_save([to_user(raw) for raw in page], User)
