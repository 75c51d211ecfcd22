from typing import Any
from urllib.parse import quote

from nango_scripts import Cursor, NangoSync, sync

from ..models import CalendarMetadata, GoogleCalendarEvent

# The event fields copied as they come, when set. Nango copies each one only when it is
# truthy in JavaScript, so a `false`, `0` or `""` from Google is left out of the record:
# the same rule here keeps the records equal to Nango's (`sequence: 0` is not stored).
# `outOfOfficeProperties` and `workingLocationProperties` are in the model but never
# copied, as in Nango's mapping.
_COPIED_WHEN_SET = (
    "iCalUID",
    "sequence",
    "description",
    "location",
    "colorId",
    "creator",
    "organizer",
    "start",
    "end",
    "endTimeUnspecified",
    "recurrence",
    "recurringEventId",
    "originalStartTime",
    "transparency",
    "visibility",
    "attendeesOmitted",
    "extendedProperties",
    "hangoutLink",
    "conferenceData",
    "gadget",
    "anyoneCanAddSelf",
    "guestsCanInviteOthers",
    "guestsCanModify",
    "guestsCanSeeOtherGuests",
    "privateCopy",
    "locked",
    "reminders",
    "source",
    "attachments",
)
_ATTENDEE_FIELDS = (
    "id",
    "email",
    "displayName",
    "organizer",
    "self",
    "resource",
    "optional",
    "responseStatus",
    "comment",
    "additionalGuests",
)


def is_set(value: Any) -> bool:
    """JavaScript truthiness: empty lists and objects count as set, `0` and `""` do not."""
    return value is not None and value is not False and value != 0 and value != ""


def to_event(raw: dict[str, Any]) -> dict[str, Any]:
    # A dict, not a GoogleCalendarEvent: batch_save then skips (and logs) a malformed one alone.
    event = {
        key: raw.get(key)
        for key in ("kind", "etag", "id", "status", "htmlLink", "created", "updated", "summary")
    }
    event["eventType"] = raw.get("eventType")
    event.update({key: raw[key] for key in _COPIED_WHEN_SET if is_set(raw.get(key))})
    if is_set(raw.get("attendees")):
        event["attendees"] = [
            {key: attendee[key] for key in _ATTENDEE_FIELDS if is_set(attendee.get(key))}
            for attendee in raw["attendees"]
        ]
    return event


@sync(
    name="events",
    models=[GoogleCalendarEvent],
    frequency="every 5 minutes",
    sync_type="incremental",
    metadata=CalendarMetadata,
    scopes=["https://www.googleapis.com/auth/calendar.readonly"],
    endpoints=[{"method": "GET", "path": "/events", "group": "Events"}],
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
    # The metadata's window bounds every run, as in Nango; without it, nothing is left out.
    if metadata.timeMin:
        params["timeMin"] = metadata.timeMin
    if metadata.timeMax:
        params["timeMax"] = metadata.timeMax
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
            live = [to_event(raw) for raw in page if raw.get("status") != "cancelled"]
            await nango.batch_save(live, GoogleCalendarEvent)
            if cancelled:
                await nango.batch_delete(cancelled, GoogleCalendarEvent)
