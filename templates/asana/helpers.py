"""Small helpers shared by the Asana templates."""

from __future__ import annotations

from typing import Any

from .models import Task, User

# The fields the Task model is built from; Asana sends only what opt_fields asks for.
TASK_FIELDS = ",".join(
    [
        "name",
        "resource_type",
        "completed",
        "due_on",
        "permalink_url",
        "notes",
        "created_at",
        "modified_at",
        "assignee.name",
        "assignee.email",
        "assignee.photo",
    ]
)


def to_user(raw: dict[str, Any]) -> User:
    photo = raw.get("photo")
    return User(
        id=raw["gid"],
        name=raw.get("name") or "",
        email=raw.get("email") or None,
        avatar_url=photo.get("image_128x128") if photo else None,
        # Asana's user objects carry no timestamps.
        created_at=None,
        modified_at=None,
    )


def to_task(raw: dict[str, Any]) -> Task:
    assignee = raw.get("assignee")
    due_on = raw.get("due_on")
    return Task(
        id=raw["gid"],
        title=raw.get("name") or "",
        url=raw["permalink_url"],
        status="completed" if raw.get("completed") else "open",
        description=raw.get("notes") or None,
        # due_on is a date; Nango gives it as midnight UTC.
        due_date=f"{due_on}T00:00:00.000Z" if due_on else None,
        assignee=to_user(assignee) if assignee else None,
        created_at=raw.get("created_at"),
        modified_at=raw.get("modified_at"),
    )
