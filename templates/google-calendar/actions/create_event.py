from urllib.parse import quote

from nango_scripts import NangoAction, action

from ..models import CreateEventInput, GoogleCalendarEvent


@action(
    name="create-event",
    input=CreateEventInput,
    output=GoogleCalendarEvent,
    scopes=[
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/calendar.events",
    ],
    description="Create a calendar event",
    version="1.0.0",
)
async def create_event(nango: NangoAction, input: CreateEventInput) -> GoogleCalendarEvent:
    body = input.model_dump(exclude_none=True, exclude={"calendarId"})
    # https://developers.google.com/calendar/api/v3/reference/events/insert
    response = await nango.post(
        f"/calendar/v3/calendars/{quote(input.calendarId, safe='')}/events", json=body
    )
    return GoogleCalendarEvent.model_validate(response.json())
