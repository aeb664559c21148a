"""The flows.yaml language as pydantic models: one source for validation and for the JSON Schema.

A state runs, in order: `set`, `call` (with `with`, `as`, `on_error`, `on_empty`), `branch`, `say`, then
either `goto` (moves on at once) or waits for input matched against its choices and `on` routes, with
`otherwise` as the fallback. Targets are `state`, `flow.state`, or `@menu`, `@start`, `@stay`, `@<state>`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CaptureKind = Literal["email", "code", "number", "date", "time", "text", "location"]
ROLES = ("unlinked", "seeker", "agent", "inspector")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Choice(Model):
    """A reply button or list row, with where it leads."""

    id: str = Field(description="Sent back by WhatsApp when tapped; <= 256 chars.")
    title: str = Field(description="Button title (<= 20 chars) or list row title (<= 24 chars).")
    description: str = Field("", description="List rows only; <= 72 chars.")
    goto: str | None = Field(None, description="Target state; omitted = stay and re-prompt.")
    set: dict[str, Any] = Field(default_factory=dict, description="Context values to set when chosen.")
    say: str | None = Field(None, description="Text sent before moving on.")
    when: str | None = Field(None, alias="if", description="Offer the choice only when this expression holds.")


class ChoicesFrom(Model):
    """One choice per item of a list in the context (e.g. the properties an action returned)."""

    items: str = Field(description="Expression giving the list, e.g. `properties.items`.")
    id: str = Field(description="Template for each row id, with `item` in scope.")
    title: str = Field(description="Template for each row title, with `item` in scope.")
    description: str = ""
    into: str | None = Field(None, description="Context name the chosen item is stored under.")
    goto: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    limit: int = Field(10, ge=1, le=10, description="At most this many items per message.")
    paging: bool = Field(
        True, description="Items that do not fit get a 'More…' row showing the next page; false drops them."
    )


class LocationPin(Model):
    """A location message (a map pin) sent before the text, e.g. the way to a property."""

    latitude: str = Field(description="Template or expression, e.g. `{{ booking.latitude }}`.")
    longitude: str
    name: str = ""
    address: str = ""
    when: str | None = Field(None, alias="if", description="Send it only when this expression holds.")


class ContactCard(Model):
    """A contact card sent before the text, e.g. the agent's, so one tap calls or chats."""

    name: str
    phone: str
    when: str | None = Field(None, alias="if", description="Send it only when this expression holds.")


class Photos(Model):
    """Image messages sent before the text, one per item of a list of image URLs."""

    items: str = Field(description="Expression giving the image URLs, e.g. `detail.images[:1]`.")
    caption: str = Field("", description="Template with `item` (the URL) and `index` (1, 2, ...); <= 1024.")
    limit: int = Field(1, ge=1, le=10)


class Say(Model):
    text: str = Field(description="Message body, a Jinja2 template.")
    location: LocationPin | None = None
    contact: ContactCard | None = None
    photos: Photos | None = None
    header: str | None = None
    footer: str | None = None
    choices: list[Choice] = Field(default_factory=list)
    choices_from: ChoicesFrom | None = None
    style: Literal["auto", "buttons", "list"] = Field(
        "auto", description="auto: <= 3 choices without descriptions are buttons, otherwise a list."
    )
    list_button: str = Field("Choose", description="Label of the button that opens a list (<= 20 chars).")


class Route(Model):
    """Where a typed input goes: keywords, a regular expression or a typed capture."""

    keywords: list[str] | None = None
    regex: str | None = None
    capture: CaptureKind | None = None
    digits: int = Field(6, ge=1, le=12, description="For `capture: code`: how many digits.")
    into: str | None = Field(None, description="Context name a capture (or regex groups) is stored under.")
    goto: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    say: str | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> Route:
        given = [k for k in ("keywords", "regex", "capture") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a route needs exactly one of `keywords`, `regex`, `capture`")
        if self.capture and not self.into:
            raise ValueError("`capture` needs `into:` (the context name to store the value under)")
        return self


class Branch(Model):
    when: str = Field(alias="if", description="A Jinja2 expression over the context.")
    goto: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    say: str | None = None


class Otherwise(Model):
    say: str | None = Field(None, description="Re-prompt text; default `messages.not_understood`.")
    goto: str | None = Field(None, description="Omitted = stay and show the prompt again.")


class State(Model):
    description: str = ""
    set: dict[str, Any] = Field(default_factory=dict)
    call: str | None = Field(None, description="Action name, e.g. `inspector.available_properties`.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    as_: str | None = Field(None, alias="as", description="Where the result goes; default `result`.")
    on_error: str | None = Field(None, description="Target when the action fails; `error` holds why.")
    on_empty: str | None = Field(None, description="Target when the action returns nothing.")
    branch: list[Branch] = Field(default_factory=list)
    say: Say | None = None
    on: list[Route] = Field(default_factory=list)
    otherwise: Otherwise | None = None
    goto: str | None = None

    @field_validator("say", mode="before")
    @classmethod
    def _say_shorthand(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("otherwise", mode="before")
    @classmethod
    def _otherwise_shorthand(cls, value: Any) -> Any:
        return {"say": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _call_keys(self) -> State:
        if not self.call and (self.with_ or self.as_ or self.on_error or self.on_empty):
            raise ValueError("`with`, `as`, `on_error` and `on_empty` only make sense with `call`")
        return self

    @property
    def waits(self) -> bool:
        """Whether the state stops to wait for the user's input."""
        return self.goto is None


class Flow(Model):
    role: Literal["unlinked", "seeker", "agent", "inspector"] = Field(
        description="Who gets this flow: linked users by role, `unlinked` for everyone else."
    )
    description: str = ""
    start: str = Field(description="Where a new conversation begins.")
    menu: str = Field(description="Where `@menu` (and the `menu` command) leads.")
    states: dict[str, State]


class Command(Model):
    """A global command, declared once, that works from every state."""

    keywords: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list, description="Button/list ids that trigger it anywhere.")
    say: str | None = None
    goto: str = Field("@stay", description="`@menu`, `@start`, `@stay` or `@<state>` of the user's flow.")
    set: dict[str, Any] = Field(default_factory=dict)
    roles: list[Literal["unlinked", "seeker", "agent", "inspector"]] | None = Field(
        None, description="Only for these roles (default: everyone)."
    )


class TemplateSpec(Model):
    name: str
    language: str = "en"
    params: list[str] = Field(default_factory=list, description="Templates for the body parameters.")


class Notification(Model):
    """A message the business starts (reminders, digests, alerts), sent by background jobs."""

    text: str
    variables: list[str] = Field(default_factory=list, description="Names the job passes to the templates.")
    choices: list[Choice] = Field(default_factory=list)
    template: TemplateSpec = Field(description="Sent instead when the user is outside the 24-hour window.")


class Session(Model):
    identify: str | None = Field(
        None, description="Action that returns the linked user for a phone when a conversation starts."
    )


class FlowFile(Model):
    """The whole of flows.yaml."""

    version: int = 1
    session: Session = Field(default_factory=Session)
    messages: dict[str, str] = Field(description="Shared texts, available in templates as `messages`.")
    commands: dict[str, Command] = Field(default_factory=dict)
    notifications: dict[str, Notification] = Field(default_factory=dict)
    flows: dict[str, Flow]


REQUIRED_MESSAGES = {
    "not_understood": "re-prompt when input matches nothing",
    "stale_choice": "a button from an earlier message was tapped",
    "unsupported_message": "an image, voice note, location... was sent",
    "action_failed": "an action failed and the state has no `on_error`",
    "state_reset": "the saved place no longer exists after flows.yaml changed",
    "rate_limited": "the user sends too many messages",
    "internal_error": "something went wrong inside the engine",
}

#: Names the engine puts in scope when it renders these (optional) messages.
MESSAGE_VARIABLES = {
    "list_more": ("first", "last", "total", "page"),
    "list_first": ("first", "last", "total", "page"),
    "list_more_description": ("first", "last", "total", "page"),
}
