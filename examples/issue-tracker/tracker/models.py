from datetime import datetime

from pydantic import BaseModel


class Issue(BaseModel):
    id: str
    title: str
    state: str
    labels: list[str]
    updated_at: datetime


class Label(BaseModel):
    id: str
    name: str
    color: str


class NewIssue(BaseModel):
    title: str
    labels: list[str] = []
