"""What a state sends (`say:`): the text, its reply buttons or list rows, and the media before it.

WhatsApp's limits are in the JSON Schema here for editors (`maxLength` 20/24/72, `maxItems` 3/10); `check`
enforces them itself, with the cut text in its message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BeforeValidator, ConfigDict, Field, JsonValue

from flows import limits
from flows.schema_base import SET, TARGET, Model

TEMPLATE = r"\{\{|\{%"


def fits(limit: int) -> dict[str, Any]:
    """JSON Schema for a text WhatsApp limits to `limit` characters, unless it is a template (cut when rendered).

    Only editors see this; `check` enforces the limits itself, with the cut text in its message.
    """
    return {"allOf": [{"anyOf": [{"maxLength": limit}, {"pattern": TEMPLATE}]}]}


def at_most(count: int) -> dict[str, Any]:
    return {"maxItems": count}


def _say_shorthand(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class Choice(Model):
    """A reply button or list row, with where it leads."""

    id: str = Field(description="Sent back by WhatsApp when tapped; unique in its message; <= 256 chars.",
                    examples=["browse", "confirm_booking"], json_schema_extra={"maxLength": limits.ID})
    title: str = Field(description="Button title (<= 20 chars) or list row title (<= 24 chars).",
                       examples=["Browse properties", "Yes, book it"], json_schema_extra=fits(limits.ROW_TITLE))
    description: str = Field("", description="Second line of a list row (makes the message a list); <= 72 chars.",
                             examples=["Available homes, a few at a time"],
                             json_schema_extra=fits(limits.ROW_DESCRIPTION))
    goto: str | None = Field(None, description=TARGET + " Omitted: stay and re-prompt.",
                             examples=["browse", "@menu", "seeker.menu"])
    set: dict[str, Any] = Field(default_factory=dict, description=SET, examples=[{"page": 0}])
    say: str | None = Field(None, description="Text sent before moving on.", examples=["Sure."])
    when: str | None = Field(None, alias="if", description="Offer the choice only when this expression holds.",
                             examples=["properties.has_next", "page > 0"])


class ChoicesFrom(Model):
    """One choice per item of a list in the context (e.g. the properties an action returned)."""

    items: str = Field(description="Expression giving the list. Use `x['items']` for a result's `items` key: "
                                   "`x.items` is the dict method, not the list.",
                       examples=["properties['items']", "bookings"])
    id: str = Field(description="Template for each row id, with `item` in scope.", examples=["prop:{{ item.id }}"])
    title: str = Field(description="Template for each row title (<= 24 chars, cut when longer), `item` in scope.",
                       examples=["{{ item.row_title }}"])
    description: str = Field("", description="Template for each row's second line (<= 72 chars), `item` in scope.",
                             examples=["{{ item.summary }}"])
    into: str | None = Field(None, description="Context name the chosen item is stored under.",
                             examples=["property"])
    goto: str | None = Field(None, description=TARGET, examples=["property_detail"])
    set: dict[str, Any] = Field(default_factory=dict, description=SET, examples=[{"from_saved": False}])
    limit: int = Field(10, ge=1, le=10, description="At most this many rows per message (10 in all, fixed choices "
                       "included).", examples=[5])
    paging: bool = Field(True, description="Items that do not fit get a 'More…' row showing the next page; false "
                         "drops them.", examples=[True])


class LocationPin(Model):
    """A location message (a map pin) sent before the text, e.g. the way to a property."""

    latitude: str = Field(description="Template or expression, e.g. `{{ booking.latitude }}`.",
                          examples=["{{ booking.latitude }}"])
    longitude: str = Field(description="Template or expression.", examples=["{{ booking.longitude }}"])
    name: str = Field("", description="The pin's name.", examples=["{{ booking.property_title }}"])
    address: str = Field("", description="The pin's address line.", examples=["{{ booking.address }}"])
    when: str | None = Field(None, alias="if", description="Send it only when this expression holds.",
                             examples=["booking.latitude"])


class ContactCard(Model):
    """A contact card sent before the text, e.g. the agent's, so one tap calls or chats."""

    name: str = Field(description="The contact's name (a template).", examples=["{{ booking.agent_name }}"])
    phone: str = Field(description="The contact's phone (a template).", examples=["{{ booking.agent_phone }}"])
    when: str | None = Field(None, alias="if", description="Send it only when this expression holds.",
                             examples=["booking.agent_phone"])


class Photos(Model):
    """Image messages sent before the text, one per item of a list of image URLs."""

    items: str = Field(description="Expression giving the image URLs, e.g. `detail.images[:1]`.",
                       examples=["detail.images[:1]"])
    caption: str = Field("", description="Template with `item` (the URL) and `index` (1, 2, ...); <= 1024.",
                         examples=["Photo {{ index }}"])
    limit: int = Field(1, ge=1, le=10, description="At most this many images.", examples=[3])


#: `- use: main_menu` in a `choices:` list: the loader puts the shared choice (or choices) in its place.
USE: dict[str, Any] = {"type": "object", "additionalProperties": False, "required": ["use"], "properties": {
    "use": {"type": "string", "description": "Name of a shared choice (or list of choices) under the top-level "
                                             "`choices:`.", "examples": ["main_menu"]}}}

def _choices_or_use(schema: dict[str, Any]) -> None:
    """At most 10 items, each a choice or a `use:` of a shared one."""
    schema.update(at_most(limits.MAX_ROWS))
    schema["items"] = {"anyOf": [schema["items"], USE]}


#: Sent as buttons (`style: auto`, 1-3 choices, no descriptions, no rows from data): titles <= 20, not 24.
_BUTTONS: dict[str, Any] = {
    "if": {"properties": {"choices": {"minItems": 1, "maxItems": limits.MAX_BUTTONS,
                                      "items": {"not": {"required": ["description"]}}},
                          "style": {"not": {"const": "list"}}},
           "required": ["choices"], "not": {"required": ["choices_from"]}},
    "then": {"properties": {"choices": {"items": {"properties": {"title": fits(limits.BUTTON_TITLE)}}}}},
}
#: With choices the message is interactive: its body <= 1024.
_INTERACTIVE: dict[str, Any] = {
    "if": {"anyOf": [{"properties": {"choices": {"minItems": 1}}, "required": ["choices"]},
                     {"required": ["choices_from"]}]},
    "then": {"properties": {"text": fits(limits.INTERACTIVE_BODY)}},
}


class Say(Model):
    """What to send: a text, or a text with reply buttons or a list."""

    model_config = ConfigDict(json_schema_extra={"allOf": cast(list[JsonValue], [_BUTTONS, _INTERACTIVE])})

    text: str = Field(description="Message body, a Jinja2 template; <= 4096 chars (1024 with choices).",
                      examples=["Hi {{ user.name }} 👋 What would you like to do?"],
                      json_schema_extra=fits(limits.TEXT_BODY))
    location: LocationPin | None = Field(None, description="A map pin sent before the text.",
                                         examples=[{"latitude": "{{ booking.latitude }}",
                                                    "longitude": "{{ booking.longitude }}"}])
    contact: ContactCard | None = Field(None, description="A contact card sent before the text.",
                                        examples=[{"name": "{{ booking.agent_name }}",
                                                   "phone": "{{ booking.agent_phone }}"}])
    photos: Photos | None = Field(None, description="Images sent before the text.",
                                  examples=[{"items": "detail.images[:1]"}])
    header: str | None = Field(None, description="Bold first line of a button or list message; <= 60 chars.",
                               examples=["Inspector"], json_schema_extra=fits(limits.HEADER))
    footer: str | None = Field(None, description="Small grey last line; <= 60 chars.",
                               examples=["Type menu at any time"], json_schema_extra=fits(limits.FOOTER))
    choices: list[Choice] = Field(default_factory=list, description="Fixed choices: 1-3 are buttons, 4-10 a list; "
                                  "`- use: name` puts in a shared choice (or list) from the top-level `choices:`.",
                                  examples=[[{"id": "menu", "title": "Main menu", "goto": "@menu"}]],
                                  json_schema_extra=_choices_or_use)
    choices_from: ChoicesFrom | None = Field(None, description="List rows built from a list in the context.",
                                             examples=[{"items": "properties['items']", "id": "prop:{{ item.id }}",
                                                        "title": "{{ item.row_title }}", "goto": "property_detail"}])
    style: Literal["auto", "buttons", "list"] = Field(
        "auto", description="auto: <= 3 choices without descriptions are buttons, otherwise a list.",
        examples=["list"],
    )
    list_button: str = Field("Choose", description="Label of the button that opens a list (<= 20 chars).",
                             examples=["View list"], json_schema_extra=fits(limits.LIST_BUTTON))


PlainText = Annotated[str, Field(json_schema_extra=fits(limits.TEXT_BODY))]
SayField = Annotated[Say | None, BeforeValidator(_say_shorthand, json_schema_input_type=PlainText | Say | None)]
