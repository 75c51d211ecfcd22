from nango_scripts import NangoAction, action

from ..models import CreatedTicket, TicketCreate


@action(
    name="create-ticket",
    input=TicketCreate,
    output=CreatedTicket,
    scopes=["tickets:write"],
    endpoint={"method": "POST", "path": "/actions/create-ticket", "group": "Tickets"},
    description="Create a Zendesk ticket.",
    version="1.0.0",
)
async def create_ticket(nango: NangoAction, input: TicketCreate) -> CreatedTicket:
    # Only the fields the caller gave: an explicit null would clear Zendesk's defaults.
    body = input.model_dump(exclude_none=True)
    # https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket
    ticket = (await nango.post("/api/v2/tickets", json=body)).json()["ticket"]
    return CreatedTicket(
        id=str(ticket["id"]),
        url=ticket["url"],
        created_at=ticket["created_at"],
        updated_at=ticket["updated_at"],
        subject=ticket.get("subject"),
        description=ticket.get("description") or "",
        priority=ticket.get("priority"),
        status=ticket["status"],
    )
