from urllib.parse import quote

from nango_scripts import Cursor, NangoSync, sync

from ..models import CalendarMetadata, GoogleCalendarEvent


@sync(
    name="events",
    models=[GoogleCalendarEvent],
    frequency="every 5 minutes",
    sync_type="incremental",
    metadata=CalendarMetadata,
    scopes=["https://www.googleapis.com/auth/calendar.readonly"],
    description=(
        "Syncs the events of the primary calendar (or of the calendars listed in the "
        "metadata's calendarsToSync) and saves the entire object as the Google API gives it. "
        "Later runs fetch only the events changed since the last run; cancelled events "
        "are deleted."
    ),
    version="1.0.0",
)
async def events(nango: NangoSync) -> None:
    metadata = CalendarMetadata.model_validate(await nango.get_metadata())
    params = {
        # Instances of recurring events, as a calendar shows them; false keeps the series.
        "singleEvents": "false" if metadata.singleEvents is False else "true",
    }
    if nango.last_sync_date is not None:
        # With updatedMin Google also returns the events cancelled since, as tombstones.
        params["updatedMin"] = nango.last_sync_date.isoformat()

    for calendar_id in metadata.calendarsToSync or ["primary"]:
        # https://developers.google.com/calendar/api/v3/reference/events/list
        async for page in nango.paginate(
            f"/calendar/v3/calendars/{quote(calendar_id, safe='')}/events",
            params=params,
            paginate=Cursor(limit=100),
        ):
            cancelled = [raw["id"] for raw in page if raw.get("status") == "cancelled"]
            live = [raw for raw in page if raw.get("status") != "cancelled"]
            await nango.batch_save(live, GoogleCalendarEvent)
            if cancelled:
                await nango.batch_delete(cancelled, GoogleCalendarEvent)
