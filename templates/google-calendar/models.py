"""Google Calendar models: Nango's GoogleCalendar, GoogleCalendarEvent and CalendarMetadata."""

from typing import Any, Literal

from pydantic import BaseModel

# --- metadata --------------------------------------------------------------------------


class CalendarMetadata(BaseModel):
    """Connection metadata of the events sync; both fields are optional."""

    calendarsToSync: list[str] | None = None
    """Calendar ids to sync; default: ["primary"]."""
    singleEvents: bool | None = None
    """Expand recurring events into their instances; default: true."""
    timeMin: str | None = None
    """RFC 3339 lower bound of the events' end time, sent on every run; default: none."""
    timeMax: str | None = None
    """RFC 3339 upper bound of the events' start time, sent on every run; default: none."""


# --- calendars -------------------------------------------------------------------------


class Reminder(BaseModel):
    method: str
    minutes: int


class CalendarNotification(BaseModel):
    type: str
    method: str


class NotificationSettings(BaseModel):
    notifications: list[CalendarNotification]


class ConferenceProperties(BaseModel):
    allowedConferenceSolutionTypes: list[str]


class GoogleCalendar(BaseModel):
    kind: str
    etag: str
    id: str
    summary: str
    # The calendar list leaves out what is not set, and Nango saves the entries as they
    # come: what Google leaves out is null here.
    description: str | None = None
    location: str | None = None
    timeZone: str | None = None
    summaryOverride: str | None = None
    colorId: str | None = None
    backgroundColor: str | None = None
    foregroundColor: str | None = None
    hidden: bool | None = None
    selected: bool | None = None
    accessRole: str
    defaultReminders: list[Reminder] | None = None
    notificationSettings: NotificationSettings | None = None
    primary: bool | None = None
    deleted: bool | None = None
    conferenceProperties: ConferenceProperties | None = None


# --- events ----------------------------------------------------------------------------


class CalendarUser(BaseModel):
    id: str | None = None
    email: str | None = None
    displayName: str | None = None
    self: bool | None = None


class EventDateTime(BaseModel):
    date: str | None = None
    dateTime: str | None = None
    timeZone: str | None = None


class EventAttendee(BaseModel):
    id: str | None = None
    email: str | None = None
    displayName: str | None = None
    organizer: bool | None = None
    self: bool | None = None
    resource: bool | None = None
    optional: bool | None = None
    responseStatus: str | None = None
    comment: str | None = None
    additionalGuests: int | None = None


class ExtendedProperties(BaseModel):
    private: dict[str, str] | None = None
    shared: dict[str, str] | None = None


class ConferenceSolutionKey(BaseModel):
    type: str


class ConferenceRequestStatus(BaseModel):
    statusCode: str


class ConferenceCreateRequest(BaseModel):
    requestId: str
    conferenceSolutionKey: ConferenceSolutionKey
    status: ConferenceRequestStatus


class ConferenceEntryPoint(BaseModel):
    entryPointType: str
    uri: str | None = None
    label: str | None = None
    pin: str | None = None
    accessCode: str | None = None
    meetingCode: str | None = None
    passcode: str | None = None
    password: str | None = None
    regionCode: str | None = None


class ConferenceSolution(BaseModel):
    key: ConferenceSolutionKey
    name: str
    iconUri: str


class AddOnParameters(BaseModel):
    parameters: dict[str, str] | None = None


class ConferenceParameters(BaseModel):
    addOnParameters: AddOnParameters | None = None


class ConferenceData(BaseModel):
    createRequest: ConferenceCreateRequest | None = None
    entryPoints: list[ConferenceEntryPoint] | None = None
    conferenceSolution: ConferenceSolution | None = None
    conferenceId: str | None = None
    signature: str | None = None
    notes: str | None = None
    parameters: ConferenceParameters | None = None


class Gadget(BaseModel):
    type: str | None = None
    title: str | None = None
    link: str | None = None
    iconLink: str | None = None
    width: int | None = None
    height: int | None = None
    display: str | None = None
    preferences: dict[str, str] | None = None


class EventReminders(BaseModel):
    useDefault: bool
    overrides: list[Reminder] | None = None


class OutOfOfficeProperties(BaseModel):
    autoDeclineMode: str | None = None
    declineMessage: str | None = None


class EventSource(BaseModel):
    url: str | None = None
    title: str | None = None


class CustomLocation(BaseModel):
    label: str | None = None


class OfficeLocation(BaseModel):
    buildingId: str | None = None
    floorId: str | None = None
    floorSectionId: str | None = None
    deskId: str | None = None
    label: str | None = None


class WorkingLocationProperties(BaseModel):
    type: str
    homeOffice: Any = None
    customLocation: CustomLocation | None = None
    officeLocation: OfficeLocation | None = None


class EventAttachment(BaseModel):
    fileUrl: str
    title: str | None = None
    mimeType: str | None = None
    iconLink: str | None = None
    fileId: str | None = None


class GoogleCalendarEvent(BaseModel):
    kind: str
    etag: str
    id: str
    status: str
    htmlLink: str
    created: str
    updated: str
    # Google leaves out the title of an untitled event (and of private events of others).
    summary: str | None = None
    description: str | None = None
    location: str | None = None
    colorId: str | None = None
    creator: CalendarUser | None = None
    organizer: CalendarUser | None = None
    start: EventDateTime
    end: EventDateTime
    endTimeUnspecified: bool | None = None
    recurrence: list[str] | None = None
    recurringEventId: str | None = None
    originalStartTime: EventDateTime | None = None
    transparency: str | None = None
    visibility: str | None = None
    iCalUID: str | None = None
    sequence: int | None = None
    attendees: list[EventAttendee] | None = None
    attendeesOmitted: bool | None = None
    extendedProperties: ExtendedProperties | None = None
    hangoutLink: str | None = None
    conferenceData: ConferenceData | None = None
    gadget: Gadget | None = None
    anyoneCanAddSelf: bool | None = None
    guestsCanInviteOthers: bool | None = None
    guestsCanModify: bool | None = None
    guestsCanSeeOtherGuests: bool | None = None
    privateCopy: bool | None = None
    locked: bool | None = None
    reminders: EventReminders | None = None
    outOfOfficeProperties: OutOfOfficeProperties | None = None
    source: EventSource | None = None
    workingLocationProperties: WorkingLocationProperties | None = None
    attachments: list[EventAttachment] | None = None
    eventType: str | None = None


# --- create-event ----------------------------------------------------------------------


class NewEventDateTime(BaseModel):
    dateTime: str
    """ISO-8601 with an offset, e.g. "2026-03-15T09:00:00-07:00"."""
    timeZone: str | None = None


class NewEventAttendee(BaseModel):
    email: str
    displayName: str | None = None
    responseStatus: Literal["needsAction", "declined", "tentative", "accepted"] | None = None


class NewReminderOverride(BaseModel):
    method: Literal["email", "popup"]
    minutes: int


class NewEventReminders(BaseModel):
    useDefault: bool | None = None
    overrides: list[NewReminderOverride] | None = None


class CreateEventInput(BaseModel):
    calendarId: str
    """"primary" or a calendar id."""
    summary: str
    description: str | None = None
    location: str | None = None
    start: NewEventDateTime
    end: NewEventDateTime
    attendees: list[NewEventAttendee] | None = None
    reminders: NewEventReminders | None = None
    recurrence: list[str] | None = None
    """RRULE, EXRULE, RDATE or EXDATE lines, e.g. ["RRULE:FREQ=WEEKLY;BYDAY=MO"]."""


class CreatedEventDateTime(BaseModel):
    dateTime: str | None = None
    timeZone: str | None = None


class CreatedEventAttendee(BaseModel):
    email: str
    displayName: str | None = None
    responseStatus: str


class CreateEventOutput(BaseModel):
    """The created event, reduced to the fields of Nango's create-event output."""

    id: str
    htmlLink: str
    summary: str
    description: str | None = None
    location: str | None = None
    start: CreatedEventDateTime
    end: CreatedEventDateTime
    attendees: list[CreatedEventAttendee] | None = None
    created: str
    updated: str
