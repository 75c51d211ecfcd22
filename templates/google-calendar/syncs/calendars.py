from nango_scripts import Cursor, NangoSync, sync

from ..models import GoogleCalendar


@sync(
    name="calendars",
    models=[GoogleCalendar],
    frequency="every hour",
    sync_type="full",
    # The calendar list has no "changed since" filter: a calendar missing from a complete
    # run was removed from the user's list.
    track_deletes=True,
    scopes=["https://www.googleapis.com/auth/calendar.readonly"],
    endpoints=[{"method": "GET", "path": "/calendars", "group": "Calendars"}],
    description="Sync the calendars list of the user",
    version="1.0.0",
)
async def calendars(nango: NangoSync) -> None:
    # https://developers.google.com/calendar/api/v3/reference/calendarList/list
    async for page in nango.paginate(
        "/calendar/v3/users/me/calendarList", paginate=Cursor(limit=100)
    ):
        await nango.batch_save(page, GoogleCalendar)
