"""Typed models of the Inspector contract (see openapi.yaml), validated from every response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field


def _id(value: Any) -> Any:
    # Inspector may number its records; the bot treats every id as an opaque string.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_id)]
Role = Literal["seeker", "agent", "inspector"]
InspectionStatus = Literal["scheduled", "completed", "cancelled", "no_show"]
#: What the inspector reported on the way to a scheduled inspection.
Progress = Literal["on_my_way", "running_late"]


class InspectorModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(InspectorModel):
    id: Id
    name: str
    email: str
    phone: str = ""
    role: Role


class Property(InspectorModel):
    id: Id
    title: str
    location: str
    address: str = ""
    price: int = Field(ge=0, description="naira")
    bedrooms: int = 0
    bathrooms: int = 0
    property_type: str = ""
    status: str = "available"
    agent_id: Id
    description: str = ""
    created_at: AwareDatetime
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    images: list[str] = Field(default_factory=list, description="Photo URLs, the cover first")


class PropertyPage(InspectorModel):
    """One page of `GET /properties`; `total` is None when Inspector answers with a bare list."""

    items: list[Property]
    total: int | None = None


class Slot(InspectorModel):
    id: Id
    property_id: Id
    starts_at: AwareDatetime
    capacity: int = Field(ge=0)
    booked: int = Field(ge=0)

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


class Inspection(InspectorModel):
    id: Id
    reference: str
    property_id: Id
    seeker_id: Id
    agent_id: Id
    inspector_id: Id | None = None
    slot_id: Id
    starts_at: AwareDatetime
    status: InspectionStatus
    notes: str = ""
    progress: Progress | None = None
    late_minutes: int | None = Field(None, ge=0)


class AlertPreferences(InspectorModel):
    user_id: Id
    enabled: bool = False
    location: str | None = None
    max_price: int | None = None
    bedrooms: int | None = None


class SavedProperty(InspectorModel):
    property_id: Id
    saved_at: datetime | None = None
    property: Property | None = None


class Location(InspectorModel):
    name: str
    available: int = 0


class PropertyStats(InspectorModel):
    """What Inspector counted for one property since a moment (its website and the bot alike)."""

    property_id: Id
    since: AwareDatetime
    bookings: int = 0
    completed: int = 0
    cancelled: int = 0
    no_shows: int = 0
    saves: int = 0
