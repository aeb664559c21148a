"""What each `inspector.*` action returns, as pydantic models: the fields flows.yaml templates can read.

The actions return plain dicts (display.py builds them); these models declare their shape, so `check` can
tell staff that `property.prise` is not a field, and `python main.py actions` can list every field with its
type and an example. A test validates real results from the sandbox against them, so they cannot drift.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Error kinds of every Inspector action (action_support.handles_errors), with when they happen.
INSPECTOR_ERRORS = {
    "unavailable": "Inspector did not answer (timeout, outage, circuit open)",
    "not_found": "the record no longer exists",
    "invalid": "Inspector refused the request, or an argument is not valid",
    "forbidden": "the user is not linked, has the wrong role, or does not own the record",
}
BOOKING_ERRORS = {**INSPECTOR_ERRORS, "slot_taken": "the slot filled up or started meanwhile"}


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PropertyResult(Result):
    """A property, with short texts made for WhatsApp rows."""

    model_config = ConfigDict(title="Property")

    id: str = Field(examples=["prp_01"])
    title: str = Field(examples=["3-Bed Terrace, Lekki"])
    location: str = Field(examples=["Lekki, Lagos"])
    address: str = Field(examples=["12 Admiralty Way"])
    price: int = Field(description="naira", examples=[45000000])
    price_text: str = Field(description="the price formatted", examples=["₦45,000,000"])
    bedrooms: int = Field(examples=[3])
    bathrooms: int = Field(examples=[2])
    property_type: str = Field(examples=["terrace"])
    status: str = Field(examples=["available"])
    agent_id: str = Field(examples=["usr_tunde"])
    description: str = Field(examples=["Bright terrace near the lagoon."])
    created_at: str = Field(description="ISO date-time", examples=["2026-11-20T09:00:00Z"])
    latitude: float | None = Field(None, examples=[6.4474])
    longitude: float | None = Field(None, examples=[3.4553])
    images: list[str] = Field(default_factory=list, description="photo URLs, the cover first",
                              examples=[["https://example.com/prp_01.jpg"]])
    row_title: str = Field(description="the title cut to a list row (<= 24)", examples=["3-Bed Terrace, Lekki"])
    summary: str = Field(description="price, beds and location for a row (<= 72)",
                         examples=["₦45,000,000 · 3 bed · Lekki, Lagos"])


class PropertyDetail(PropertyResult):
    """A property with its agent, for "Contact agent"."""

    model_config = ConfigDict(title="PropertyDetail")

    agent_name: str = Field(examples=["Tunde Agent"])
    agent_phone: str = Field(examples=["+2348010000002"])


class NearbyProperty(PropertyResult):
    """A property near the user, with how far it is."""

    model_config = ConfigDict(title="NearbyProperty")

    distance_km: float = Field(examples=[2.4])
    distance_text: str = Field(examples=["2.4 km away"])


class PropertyPage(Result):
    """One page of available properties; read the list as `x['items']` (`x.items` is the dict method)."""

    model_config = ConfigDict(title="PropertyPage")

    items: list[PropertyResult] = Field(description="the properties of this page")
    page: int = Field(description="0-based page number", examples=[0])
    has_next: bool = Field(examples=[True])
    has_prev: bool = Field(examples=[False])
    total: int = Field(description="how many match in all", examples=[14])


class LocationResult(Result):
    """A location with available properties."""

    model_config = ConfigDict(title="Location")

    id: str = Field(examples=["Lekki, Lagos"])
    name: str = Field(examples=["Lekki, Lagos"])
    title: str = Field(description="the name cut to a list row (<= 24)", examples=["Lekki, Lagos"])
    available: int = Field(examples=[4])
    summary: str = Field(examples=["4 available"])


class SlotResult(Result):
    """An inspection slot of a property."""

    model_config = ConfigDict(title="Slot")

    id: str = Field(examples=["slt_0101"])
    property_id: str = Field(examples=["prp_01"])
    starts_at: str = Field(description="ISO date-time", examples=["2026-12-03T10:00:00+01:00"])
    capacity: int = Field(examples=[3])
    booked: int = Field(examples=[1])
    free: int = Field(description="places left", examples=[2])
    date: str = Field(description="local ISO date", examples=["2026-12-03"])
    time: str = Field(description="local HH:MM", examples=["10:00"])
    when: str = Field(examples=["Thu 3 Dec, 10:00"])
    row_title: str = Field(examples=["Thu 3 Dec, 10:00"])
    summary: str = Field(examples=["Thu 3 Dec, 10:00 · 2 places left (1/3 booked)"])
    places: str = Field(description="what a row adds under the date", examples=["2 places left (1/3 booked)"])


class InspectionResult(Result):
    """An inspection booking, with its property and the people involved."""

    model_config = ConfigDict(title="Inspection")

    id: str = Field(examples=["ins_001"])
    reference: str = Field(examples=["INS-7K3Q"])
    property_id: str = Field(examples=["prp_01"])
    seeker_id: str = Field(examples=["usr_ada"])
    agent_id: str = Field(examples=["usr_tunde"])
    inspector_id: str | None = Field(examples=["usr_ngozi"])
    slot_id: str = Field(examples=["slt_0101"])
    starts_at: str = Field(description="ISO date-time", examples=["2026-12-03T10:00:00+01:00"])
    status: str = Field(description="scheduled, completed, cancelled or no_show", examples=["scheduled"])
    status_text: str = Field(examples=["✅ completed"])
    notes: str = Field(examples=["Roof checked."])
    progress: str | None = Field(None, description="on_my_way or running_late", examples=["on_my_way"])
    late_minutes: int | None = Field(None, examples=[15])
    latitude: float | None = Field(None, examples=[6.4474])
    longitude: float | None = Field(None, examples=[3.4553])
    when: str = Field(examples=["Thu 3 Dec, 10:00"])
    property_title: str = Field(examples=["3-Bed Terrace, Lekki"])
    location: str = Field(examples=["Lekki, Lagos"])
    address: str = Field(examples=["12 Admiralty Way"])
    row_title: str = Field(examples=["INS-7K3Q Thu 3 Dec, 10:00"])
    summary: str = Field(examples=["Thu 3 Dec, 10:00 · 3-Bed Terrace, Lekki"])
    seeker_name: str = Field(examples=["Ada Seeker"])
    seeker_phone: str = Field(examples=["+2348010000001"])
    agent_name: str = Field(examples=["Tunde Agent"])
    agent_phone: str = Field(examples=["+2348010000002"])
    inspector_name: str = Field(examples=["Ngozi Inspector"])
    inspector_phone: str = Field(examples=["+2348010000003"])


class AlertResult(Result):
    """A seeker's new-property alert preferences."""

    model_config = ConfigDict(title="AlertPreferences")

    user_id: str = Field(examples=["usr_ada"])
    enabled: bool = Field(examples=[True])
    location: str | None = Field(examples=["Lekki"])
    max_price: int | None = Field(examples=[80000000])
    max_price_text: str = Field(examples=["₦80,000,000"])
    bedrooms: int | None = Field(examples=[3])
    summary: str = Field(examples=["On: Lekki, up to ₦80,000,000, 3+ bed"])


class SavedResult(Result):
    """Whether a property is now among the user's saved ones."""

    model_config = ConfigDict(title="Saved")

    saved: bool = Field(examples=[True])
    property_id: str = Field(examples=["prp_01"])
    title: str = Field("", description="set when saving", examples=["3-Bed Terrace, Lekki"])


class SlotRemoved(Result):
    """A removed slot."""

    removed: bool = Field(examples=[True])
    slot_id: str = Field(examples=["slt_0101"])


#: action name (without `inspector.`) -> (result, error kinds, what it does)
RESULTS: dict[str, tuple[object, dict[str, str], str]] = {
    "available_properties": (PropertyPage, INSPECTOR_ERRORS,
                             "One page of available properties, filtered by location, price and bedrooms."),
    "property": (PropertyDetail, INSPECTOR_ERRORS,
                 "One property's details."),
    "locations": (list[LocationResult], INSPECTOR_ERRORS,
                  "Locations with available properties."),
    "inspection_slots": (list[SlotResult], INSPECTOR_ERRORS,
                         "Future slots of a property with a free place, soonest first."),
    "book_inspection": (InspectionResult, BOOKING_ERRORS,
                        "Book the linked seeker on a slot (a retried booking never books twice)."),
    "my_bookings": (list[InspectionResult], INSPECTOR_ERRORS,
                    "The seeker's upcoming inspections, soonest first."),
    "booking": (InspectionResult, INSPECTOR_ERRORS,
                "One inspection the user is a party to."),
    "cancel_booking": (InspectionResult, INSPECTOR_ERRORS,
                       "Cancel an inspection (the seeker's own, or on the agent's property)."),
    "save_property": (SavedResult, INSPECTOR_ERRORS,
                      "Add a property to the user's saved ones."),
    "unsave_property": (SavedResult, INSPECTOR_ERRORS,
                        "Remove a property from the user's saved ones."),
    "saved_properties": (list[PropertyResult], INSPECTOR_ERRORS,
                         "The user's saved properties."),
    "alert_preferences": (AlertResult, INSPECTOR_ERRORS,
                          "The seeker's new-property alert settings."),
    "set_alert_preferences": (AlertResult, INSPECTOR_ERRORS,
                              "Change only the given alert settings; 'any' (or '' / 0) clears a filter."),
    "agent_properties": (list[PropertyResult], INSPECTOR_ERRORS,
                         "The agent's listings."),
    "agent_inquiries": (list[InspectionResult], INSPECTOR_ERRORS,
                        "Upcoming inspections on the agent's properties."),
    "property_slots": (list[SlotResult], INSPECTOR_ERRORS,
                       "Future slots of one of the agent's properties."),
    "add_slot": (SlotResult, INSPECTOR_ERRORS,
                 "Add a slot (date, HH:MM, places) to one of the agent's properties."),
    "remove_slot": (SlotRemoved, INSPECTOR_ERRORS,
                    "Remove a slot without bookings from one of the agent's properties."),
    "assigned_inspections": (list[InspectionResult], INSPECTOR_ERRORS,
                             "The inspector's inspections `today` or this `week`."),
    "inspection": (InspectionResult, INSPECTOR_ERRORS,
                   "One inspection assigned to the inspector."),
    "booking_history": (list[InspectionResult], INSPECTOR_ERRORS,
                        "The seeker's past inspections, newest first."),
    "reschedule_booking": (InspectionResult, BOOKING_ERRORS,
                           "Move a scheduled inspection to another slot."),
    "nearby_properties": (list[NearbyProperty], INSPECTOR_ERRORS,
                          "Available properties nearest a location the user shared."),
    "report_progress": (InspectionResult, INSPECTOR_ERRORS,
                        "The inspector reports being on the way or running late."),
    "mark_no_show": (InspectionResult, INSPECTOR_ERRORS,
                     "Mark an assigned inspection as a no-show, with notes."),
    "complete_inspection": (InspectionResult, INSPECTOR_ERRORS,
                            "Mark an assigned inspection completed, with notes."),
}
