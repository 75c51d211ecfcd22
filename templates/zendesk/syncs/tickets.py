from typing import Any

from nango_scripts import NangoSync, sync

from ..helpers import epoch_seconds, iso_millis
from ..models import CustomFields, Ticket, Via

EXPORT = "/api/v2/incremental/tickets.json"


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _custom_fields(raw: list[dict[str, Any]] | None) -> list[CustomFields] | None:
    if raw is None:
        return None
    return [CustomFields(id=field["id"], value=field.get("value")) for field in raw]


def to_ticket(raw: dict[str, Any]) -> Ticket:
    via = raw.get("via")
    return Ticket(
        url=raw.get("url"),
        id=str(raw["id"]),
        external_id=raw.get("external_id"),
        via=Via.model_validate(via) if via else None,
        created_at=iso_millis(raw.get("created_at")),
        updated_at=iso_millis(raw.get("updated_at")),
        generated_timestamp=raw.get("generated_timestamp"),
        type=raw.get("type"),
        subject=raw.get("subject"),
        raw_subject=raw.get("raw_subject"),
        description=raw.get("description"),
        priority=raw.get("priority"),
        status=raw.get("status"),
        recipient=raw.get("recipient"),
        requester_id=raw.get("requester_id"),
        submitter_id=raw.get("submitter_id"),
        assignee_id=raw.get("assignee_id"),
        organization_id=raw.get("organization_id"),
        group_id=raw.get("group_id"),
        collaborator_ids=raw.get("collaborator_ids"),
        follower_ids=raw.get("follower_ids"),
        email_cc_ids=raw.get("email_cc_ids"),
        forum_topic_id=_str_or_none(raw.get("forum_topic_id")),
        problem_id=_str_or_none(raw.get("problem_id")),
        has_incidents=raw.get("has_incidents"),
        is_public=raw.get("is_public"),
        due_at=iso_millis(raw.get("due_at")),
        tags=raw.get("tags"),
        custom_fields=_custom_fields(raw.get("custom_fields")),
        satisfaction_rating=raw.get("satisfaction_rating"),
        sharing_agreement_ids=raw.get("sharing_agreement_ids"),
        custom_status_id=raw.get("custom_status_id"),
        fields=_custom_fields(raw.get("fields")),
        followup_ids=raw.get("followup_ids"),
        ticket_form_id=raw.get("ticket_form_id"),
        brand_id=raw.get("brand_id"),
        allow_channelback=raw.get("allow_channelback"),
        allow_attachments=raw.get("allow_attachments"),
        from_messaging_channel=raw.get("from_messaging_channel"),
    )


@sync(
    name="tickets",
    endpoints=[{"method": "GET", "path": "/syncs/tickets"}],
    models=[Ticket],
    frequency="every hour",
    sync_type="incremental",
    scopes=["tickets:read"],
    description="Every ticket of the Zendesk account, through the time-based incremental "
    "ticket export; later runs fetch only the tickets changed since the last run and delete "
    "the ones Zendesk reports as deleted.",
    version="1.0.0",
)
async def tickets(nango: NangoSync) -> None:
    # start_time 0 exports every ticket; later runs start where the last one began.
    start = epoch_seconds(nango.last_sync_date) if nango.last_sync_date else 0
    # A ticket changed in the second a page ends on comes again at the top of the next
    # page: the previous page's (id, updated_at) pairs are enough to skip it.
    previous: set[tuple[Any, Any]] = set()
    url: str | None = EXPORT
    # per_page 1000 (the maximum): these exports are limited to 10 requests a minute.
    params: dict[str, Any] | None = {"start_time": start, "per_page": 1000}
    while url:
        # https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-export-time-based
        page = (await nango.get(url, params=params)).json()
        found = page.get("tickets") or []
        fresh = [raw for raw in found if (raw["id"], raw.get("updated_at")) not in previous]
        previous = {(raw["id"], raw.get("updated_at")) for raw in found}
        # Deleted tickets come back once more, with status "deleted".
        deleted = [str(raw["id"]) for raw in fresh if raw.get("status") == "deleted"]
        kept = [to_ticket(raw) for raw in fresh if raw.get("status") != "deleted"]
        if kept:
            await nango.batch_save(kept, Ticket)
        if deleted:
            await nango.batch_delete(deleted, Ticket)
        # next_page is given even on the last page (for a later export): end_of_stream says stop.
        if page.get("end_of_stream") or not found:
            break
        url, params = page.get("next_page"), None
