"""Shared Jira pieces: the site's browser URL and JQL times."""

from datetime import datetime
from zoneinfo import ZoneInfo

from nango_scripts import NangoAction

# The connection's base URL is the API gateway (api.atlassian.com/ex/jira/{cloud_id});
# links for people need the site's own URL, which serverInfo names.


async def site_url(nango: NangoAction) -> str:
    """The site's browser URL (https://acme.atlassian.net), remembered in metadata.baseUrl."""
    metadata = await nango.get_metadata()
    if metadata.get("baseUrl"):
        return str(metadata["baseUrl"]).rstrip("/")
    info = (await nango.get("/rest/api/3/serverInfo")).json()
    url = str(info["baseUrl"]).rstrip("/")
    await nango.update_metadata({"baseUrl": url})
    return url


async def user_time_zone(nango: NangoAction) -> str:
    """The zone JQL dates are read in: the connected user's, remembered in metadata.timeZone."""
    metadata = await nango.get_metadata()
    if metadata.get("timeZone"):
        return str(metadata["timeZone"])
    me = (await nango.get("/rest/api/3/myself")).json()
    zone = str(me.get("timeZone") or "UTC")
    await nango.update_metadata({"timeZone": zone})
    return zone


def jql_time(moment: datetime, zone: str) -> str:
    """An instant as JQL reads it: minutes, in the user's time zone (rounded down)."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
