from typing import Any
from urllib.parse import quote

from nango_scripts import NangoAction, action

from ..models import CreateEventInput, CreateEventOutput


def to_output(raw: dict[str, Any]) -> CreateEventOutput:
    start = raw.get("start") or {}
    end = raw.get("end") or {}
    attendees = raw.get("attendees")
    return CreateEventOutput(
        id=raw["id"],
        htmlLink=raw["htmlLink"],
        summary=raw["summary"],
        description=raw.get("description"),
        location=raw.get("location"),
        start={"dateTime": start.get("dateTime"), "timeZone": start.get("timeZone")},
        end={"dateTime": end.get("dateTime"), "timeZone": end.get("timeZone")},
        attendees=None
        if attendees is None
        else [
            {
                "email": attendee["email"],
                "displayName": attendee.get("displayName"),
                "responseStatus": attendee["responseStatus"],
            }
            for attendee in attendees
        ],
        created=raw["created"],
        updated=raw["updated"],
    )


@action(
    name="create-event",
    input=CreateEventInput,
    output=CreateEventOutput,
    scopes=[
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/calendar.events",
    ],
    endpoint={"method": "POST", "path": "/actions/create-event", "group": "Events"},
    description="Create a calendar event",
    version="1.0.0",
)
async def create_event(nango: NangoAction, input: CreateEventInput) -> CreateEventOutput:
    body = input.model_dump(exclude_none=True, exclude={"calendarId"})
    # https://developers.google.com/calendar/api/v3/reference/events/insert
    response = await nango.post(
        f"/calendar/v3/calendars/{quote(input.calendarId, safe='')}/events", json=body
    )
    return to_output(response.json())
