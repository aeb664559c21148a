"""The flows.yaml language as pydantic models: one source for validation and for the JSON Schema.

A state runs, in order: `set`, `call` (one action with `with`, `as`, `on_error`, `on_empty`, or a list of
them), `branch`, `say`, then `goto` (moves on at once), `subflow` (enters a shared flow), `return` (back to
the caller of a shared flow) or waits for input matched against its choices and `on` routes, with
`otherwise` as the fallback. Targets are `state`, `flow.state`, or `@menu`, `@start`, `@stay`, `@<state>`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, cast

from pydantic import BeforeValidator, ConfigDict, Field, JsonValue, model_validator

from flows import limits
from flows.schema_base import SET, TARGET, Model
from flows.schema_reuse import CallStep, Param, SubflowCall

CaptureKind = Literal["email", "code", "number", "date", "time", "text", "location"]
ROLES = ("unlinked", "seeker", "agent", "inspector")
TEMPLATE = r"\{\{|\{%"


def _fits(limit: int) -> dict[str, Any]:
    """JSON Schema for a text WhatsApp limits to `limit` characters, unless it is a template (cut when rendered).

    Only editors see this; `check` enforces the limits itself, with the cut text in its message.
    """
    return {"allOf": [{"anyOf": [{"maxLength": limit}, {"pattern": TEMPLATE}]}]}


def _at_most(count: int) -> dict[str, Any]:
    return {"maxItems": count}


def _say_shorthand(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


def _otherwise_shorthand(value: Any) -> Any:
    return {"say": value} if isinstance(value, str) else value


class Choice(Model):
    """A reply button or list row, with where it leads."""

    id: str = Field(description="Sent back by WhatsApp when tapped; unique in its message; <= 256 chars.",
                    examples=["browse", "confirm_booking"], json_schema_extra={"maxLength": limits.ID})
    title: str = Field(description="Button title (<= 20 chars) or list row title (<= 24 chars).",
                       examples=["Browse properties", "Yes, book it"], json_schema_extra=_fits(limits.ROW_TITLE))
    description: str = Field("", description="Second line of a list row (makes the message a list); <= 72 chars.",
                             examples=["Available homes, a few at a time"],
                             json_schema_extra=_fits(limits.ROW_DESCRIPTION))
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
    schema.update(_at_most(limits.MAX_ROWS))
    schema["items"] = {"anyOf": [schema["items"], USE]}


#: Sent as buttons (`style: auto`, 1-3 choices, no descriptions, no rows from data): titles <= 20, not 24.
_BUTTONS: dict[str, Any] = {
    "if": {"properties": {"choices": {"minItems": 1, "maxItems": limits.MAX_BUTTONS,
                                      "items": {"not": {"required": ["description"]}}},
                          "style": {"not": {"const": "list"}}},
           "required": ["choices"], "not": {"required": ["choices_from"]}},
    "then": {"properties": {"choices": {"items": {"properties": {"title": _fits(limits.BUTTON_TITLE)}}}}},
}
#: With choices the message is interactive: its body <= 1024.
_INTERACTIVE: dict[str, Any] = {
    "if": {"anyOf": [{"properties": {"choices": {"minItems": 1}}, "required": ["choices"]},
                     {"required": ["choices_from"]}]},
    "then": {"properties": {"text": _fits(limits.INTERACTIVE_BODY)}},
}


class Say(Model):
    """What to send: a text, or a text with reply buttons or a list."""

    model_config = ConfigDict(json_schema_extra={"allOf": cast(list[JsonValue], [_BUTTONS, _INTERACTIVE])})

    text: str = Field(description="Message body, a Jinja2 template; <= 4096 chars (1024 with choices).",
                      examples=["Hi {{ user.name }} 👋 What would you like to do?"],
                      json_schema_extra=_fits(limits.TEXT_BODY))
    location: LocationPin | None = Field(None, description="A map pin sent before the text.",
                                         examples=[{"latitude": "{{ booking.latitude }}",
                                                    "longitude": "{{ booking.longitude }}"}])
    contact: ContactCard | None = Field(None, description="A contact card sent before the text.",
                                        examples=[{"name": "{{ booking.agent_name }}",
                                                   "phone": "{{ booking.agent_phone }}"}])
    photos: Photos | None = Field(None, description="Images sent before the text.",
                                  examples=[{"items": "detail.images[:1]"}])
    header: str | None = Field(None, description="Bold first line of a button or list message; <= 60 chars.",
                               examples=["Inspector"], json_schema_extra=_fits(limits.HEADER))
    footer: str | None = Field(None, description="Small grey last line; <= 60 chars.",
                               examples=["Type menu at any time"], json_schema_extra=_fits(limits.FOOTER))
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
                             examples=["View list"], json_schema_extra=_fits(limits.LIST_BUTTON))


PlainText = Annotated[str, Field(json_schema_extra=_fits(limits.TEXT_BODY))]
SayField = Annotated[Say | None, BeforeValidator(_say_shorthand, json_schema_input_type=PlainText | Say | None)]


class Route(Model):
    """Where a typed input goes: keywords, a regular expression or a typed capture."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["keywords"]}, {"required": ["regex"]},
                                                           {"required": ["capture"]}]})

    keywords: list[str] | None = Field(None, description="Whole-message words (case-, accent- and "
                                       "punctuation-insensitive).", examples=[["yes", "yep"]])
    regex: str | None = Field(None, description="Searched case-insensitively; named groups go to `into` as a dict.",
                              examples=[r"^REF-(?P<ref>\w+)$"])
    capture: CaptureKind | None = Field(None, description="A typed value found in the message; needs `into`.",
                                        examples=["email", "number"])
    digits: int = Field(6, ge=1, le=12, description="For `capture: code`: how many digits.", examples=[6])
    into: str | None = Field(None, description="Context name a capture (or regex groups) is stored under.",
                             examples=["email"])
    goto: str | None = Field(None, description=TARGET, examples=["send_code"])
    set: dict[str, Any] = Field(default_factory=dict, description=SET, examples=[{"page": 0}])
    say: str | None = Field(None, description="Text sent before moving on.", examples=["Got it."])

    @model_validator(mode="after")
    def _one_matcher(self) -> Route:
        given = [k for k in ("keywords", "regex", "capture") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a route needs exactly one of `keywords`, `regex`, `capture`")
        if self.capture and not self.into:
            raise ValueError("`capture` needs `into:` (the context name to store the value under)")
        return self


AskType = Literal["number", "money", "date", "time", "email", "phone", "choice", "text"]


class Ask(Model):
    """A typed question: the answer is checked, stored under `into`, and a wrong one re-asked, then routed."""

    into: str = Field(description="Context name the valid answer is stored under.", examples=["budget"])
    type: AskType = Field(description="What the answer must be: number, money (₦5m, 450k), date (ISO), time "
                                      "(HH:MM), email, phone (+234...), choice (one of `options`) or text.",
                          examples=["money"])
    min: int | float | str | None = Field(None, description="Smallest number, earliest date (ISO or `today`), or "
                                                      "shortest text.", examples=[0, "today"])
    max: int | float | str | None = Field(None, description="Largest number, latest date, or longest text.",
                                    examples=[1000000000])
    options: list[str] = Field(default_factory=list, description="For `type: choice`: the accepted answers "
                               "(also by number).", examples=[["Lagos", "Abuja"]])
    error: str | None = Field(None, description="Said after a wrong answer (`ask.tries_left` in scope); default "
                              "`messages.not_understood`.", examples=["Please send an amount, like 30m."])
    retries: int = Field(2, ge=0, le=10, description="Wrong answers re-asked before `on_fail`.", examples=[2])
    on_fail: str | None = Field(None, description=TARGET + " Where to go when the retries are used up; omitted: "
                                "keep asking.", examples=["@menu"])
    goto: str | None = Field(None, description=TARGET + " Where a valid answer leads; omitted: stay.",
                             examples=["confirm_budget"])

    @model_validator(mode="after")
    def _options(self) -> Ask:
        if (self.type == "choice") != bool(self.options):
            raise ValueError("`options` goes with `type: choice`, and `type: choice` needs `options`")
        return self


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Timeout(Model):
    """What happens when a waiting state is left unanswered for a while: a nudge (once), a move, or both."""

    after: str = Field(description="How long without an answer: `90s`, `10m`, `2h`, `1d`.",
                       examples=["10m", "24h"], pattern=_DURATION.pattern)
    say: str | None = Field(None, description="Sent when the time is up, only inside WhatsApp's 24-hour window.",
                            examples=["Still there? Pick a time, or type menu."])
    goto: str | None = Field(None, description=TARGET + " Where the conversation moves (sent nothing outside the "
                             "24-hour window); omitted: it stays.", examples=["@menu"])

    @property
    def seconds(self) -> float:
        found = _DURATION.match(self.after)
        assert found is not None  # the pattern above
        return float(found.group(1)) * _UNIT[found.group(2)]

    @model_validator(mode="after")
    def _does_something(self) -> Timeout:
        if not self.say and not self.goto:
            raise ValueError("a timeout needs `say:`, `goto:` or both")
        return self


class Branch(Model):
    """A condition checked before `say`; the first that holds wins."""

    when: str = Field(alias="if", description="A Jinja2 expression over the context.",
                      examples=["user.role == 'seeker'", "properties.total > 50"])
    goto: str | None = Field(None, description=TARGET, examples=["seeker.menu"])
    set: dict[str, Any] = Field(default_factory=dict, description=SET, examples=[{"page": 0}])
    say: str | None = Field(None, description="Text sent when the condition holds.", examples=["Lots to see!"])


class Otherwise(Model):
    """What happens when the input matches no choice, route or command."""

    say: str | None = Field(None, description="Re-prompt text; default `messages.not_understood`.",
                            examples=["Please pick a property or type menu."])
    goto: str | None = Field(None, description=TARGET + " Omitted: stay and show the prompt again.",
                             examples=["@menu"])


OtherwiseField = Annotated[Otherwise | None,
                           BeforeValidator(_otherwise_shorthand, json_schema_input_type=str | Otherwise | None)]


class State(Model):
    """One step of a flow: `set`, `call`, `branch`, `say`, then `goto` or wait for input."""

    model_config = ConfigDict(json_schema_extra={"dependentRequired": {
        "with": ["call"], "as": ["call"], "on_error": ["call"], "on_empty": ["call"]}})

    description: str = Field("", description="A note for staff; never sent.", examples=["Pick a property to see."])
    set: dict[str, Any] = Field(default_factory=dict, description=SET, examples=[{"page": 0}])
    call: str | list[CallStep] | None = Field(
        None, description="Action name (`python main.py actions` lists them), or a list of calls run in order, "
                          "each with its own `with`, `as`, `on_error`, `on_empty`; the first failure stops them.",
        examples=["inspector.available_properties",
                  [{"action": "inspector.book_inspection", "as": "booking", "on_error": "booking_failed"},
                   {"action": "jobs.schedule_reminder", "as": "reminder", "on_error": "@continue"}]])
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="The action's arguments, templated.",
                                  examples=[{"page": "{{ page }}", "page_size": 5}])
    as_: str | None = Field(None, alias="as", description="Where the result goes; default `result`.",
                            examples=["properties"])
    on_error: str | None = Field(None, description="Target when the action fails; `error` holds why.",
                                 examples=["booking_failed"])
    on_empty: str | None = Field(None, description="Target when the action returns nothing ([], {}, {items: []}).",
                                 examples=["no_properties"])
    branch: list[Branch] = Field(default_factory=list, description="Conditions checked in order; the first wins.",
                                 examples=[[{"if": "user.role == 'agent'", "goto": "agent.menu"}]])
    say: SayField = Field(None, description="What to send: plain text, or {text, choices, ...}.",
                          examples=["Okay!", {"text": "Pick one:", "choices": [{"id": "menu", "title": "Main menu",
                                                                              "goto": "@menu"}]}])
    ask: Ask | None = Field(None, description="A typed question with validation and retries.",
                            examples=[{"into": "budget", "type": "money", "min": 0, "retries": 2,
                                       "on_fail": "@menu", "goto": "filtered"}])
    on: list[Route] = Field(default_factory=list, description="Typed input routes, tried in order.",
                            examples=[[{"capture": "email", "into": "email", "goto": "send_code"}]])
    otherwise: OtherwiseField = Field(None, description="When nothing matches: a re-prompt text or {say, goto}.",
                                      examples=["Please type a number.", {"say": "Sorry.", "goto": "@menu"}])
    goto: str | None = Field(None, description=TARGET + " Given: move on at once without waiting.",
                             examples=["browse"])
    timeouts: list[Timeout] = Field(default_factory=list, description="While the state waits: what happens "
                                    "after a while without an answer, run by the background jobs.",
                                    examples=[[{"after": "10m", "say": "Still there?"},
                                               {"after": "24h", "goto": "@menu"}]])
    subflow: SubflowCall | None = Field(None, description="Given: enter a shared flow at once, with arguments; "
                                        "it comes back to `then`.",
                                        examples=[{"flow": "account", "with": {"help_text": "Help!"}, "then": "menu"}])
    return_: Any = Field(None, alias="return", description="Given: go back to the caller of this shared flow at "
                         "once, with this value (templated; `{{ expr }}` keeps its type) for the caller's `as`.",
                         examples=["{{ answer }}", True])

    @model_validator(mode="after")
    def _call_keys(self) -> State:
        if (not self.call or isinstance(self.call, list)) and (self.with_ or self.as_ or self.on_error
                                                               or self.on_empty):
            raise ValueError("`with`, `as`, `on_error` and `on_empty` go with a single `call: action`; in a list of "
                             "calls, each call has its own")
        if sum([self.goto is not None, self.subflow is not None, self.returns]) > 1:
            raise ValueError("a state moves on by one of `goto`, `subflow` and `return`, not several")
        return self

    @property
    def returns(self) -> bool:
        """Whether the state goes back to its shared flow's caller once it has run (`return:` given)."""
        return "return_" in self.model_fields_set

    @property
    def calls(self) -> list[CallStep]:
        """The state's action calls in order, the single `call:` form included."""
        if self.call is None:
            return []
        if isinstance(self.call, list):
            return self.call
        return [CallStep(action=self.call, with_=self.with_, as_=self.as_, on_error=self.on_error,
                         on_empty=self.on_empty)]

    @property
    def waits(self) -> bool:
        """Whether the state stops to wait for the user's input."""
        return self.goto is None and self.subflow is None and not self.returns


class Flow(Model):
    """The dialogue of one role (its states, where it starts and where `@menu` leads), or a shared flow that
    any role's states enter with `subflow:` and that returns to them."""

    role: Literal["unlinked", "seeker", "agent", "inspector", "shared"] = Field(
        description="Who gets this flow: linked users by role, `unlinked` for everyone else; `shared`: a flow "
                    "entered from other flows with `subflow:`, returning to them.", examples=["seeker", "shared"]
    )
    description: str = Field("", description="A note for staff; never sent.", examples=["Property seekers."])
    start: str = Field(description="Where a new conversation (or a shared flow) begins.", examples=["menu"])
    menu: str = Field("", description="Where `@menu` (and the `menu` command) leads; a shared flow has none "
                      "(its `@menu` is the user's own menu).", examples=["menu"])
    params: dict[str, Param] = Field(default_factory=dict, description="A shared flow's parameters, by name: "
                                     "callers pass them in `subflow.with`; its states read them by name.",
                                     examples=[{"help_text": {"description": "What to show"},
                                                "account": {"default": "seeker"}}])
    states: dict[str, State] = Field(description="The states, by name.",
                                     examples=[{"menu": {"say": "Hi!", "goto": "browse"}}])

    @model_validator(mode="after")
    def _shape(self) -> Flow:
        if not self.shared and not self.menu:
            raise ValueError("`menu` is required here (where `@menu` and the `menu` command lead)")
        return self

    @property
    def shared(self) -> bool:
        """Entered with `subflow:` from any role's flow, never a user's own flow."""
        return self.role == "shared"


class Command(Model):
    """A global command, declared once, that works from every state."""

    keywords: list[str] = Field(default_factory=list, description="Whole-message words that trigger it.",
                                examples=[["menu", "home"]])
    ids: list[str] = Field(default_factory=list, description="Button/list ids that trigger it anywhere.",
                           examples=[["menu"]])
    say: str | None = Field(None, description="Text sent before moving on.", examples=["Okay, cancelled."])
    goto: str = Field("@stay", description="`@menu`, `@start`, `@stay` or `@<state>` of the user's flow.",
                      examples=["@menu", "@help"])
    set: dict[str, Any] = Field(default_factory=dict, description=SET, examples=[{"page": 0}])
    roles: list[Literal["unlinked", "seeker", "agent", "inspector"]] | None = Field(
        None, description="Only for these roles (default: everyone).", examples=[["seeker", "agent"]]
    )


class TemplateSpec(Model):
    """An approved WhatsApp message template, sent outside the 24-hour window."""

    name: str = Field(description="The template's name as approved in Meta's manager.",
                      examples=["inspection_reminder"])
    language: str = Field("en", description="Its language code.", examples=["en", "en_US"])
    params: list[str] = Field(default_factory=list, description="Templates for the body parameters, in order.",
                              examples=[["{{ inspection.property_title }}", "{{ inspection.when }}"]])


class NotificationChoice(Choice):
    """A reply button on a notification; `goto` is where tapping it leads in the user's flow."""

    title: str = Field(description="Button title; <= 20 chars.", examples=["Main menu", "Stop alerts"],
                       json_schema_extra=_fits(limits.BUTTON_TITLE))


class Notification(Model):
    """A message the business starts (reminders, digests, alerts), sent by background jobs."""

    text: str = Field(description="Sent inside the 24-hour window; <= 1024 chars with buttons.",
                      examples=["⏰ Reminder: {{ inspection.property_title }} on {{ inspection.when }}"],
                      json_schema_extra=_fits(limits.INTERACTIVE_BODY))
    variables: list[str] = Field(default_factory=list, description="Names the job passes to the templates.",
                                 examples=[["inspection"]])
    choices: list[NotificationChoice] = Field(default_factory=list, description="Up to 3 reply buttons.",
                                              examples=[[{"id": "menu", "title": "Main menu", "goto": "@menu"}]],
                                              json_schema_extra=_at_most(limits.MAX_BUTTONS))
    template: TemplateSpec = Field(description="Sent instead when the user is outside the 24-hour window.",
                                   examples=[{"name": "inspection_reminder", "language": "en",
                                              "params": ["{{ inspection.property_title }}"]}])


class Session(Model):
    """How a conversation starts."""

    identify: str | None = Field(
        None, description="Action that returns the linked user for a phone when a conversation starts.",
        examples=["accounts.identify"],
    )
    remember_language: str | None = Field(
        None, description="Action called with `language` when a linked user picks one, to keep it on the account.",
        examples=["accounts.remember_language"],
    )


class Languages(Model):
    """The language of this file's texts, and the question asked when a user's language is unknown.

    Other languages are `translations/<code>.yaml` beside this file, keyed by this file's texts."""

    code: str = Field("en", description="The language this file is written in.", examples=["en"])
    name: str = Field(description="Its name as offered in the question (a button title, <= 20 chars).",
                      examples=["English"], json_schema_extra=_fits(limits.BUTTON_TITLE))
    question: str = Field(description="Asked once, before the first state, when the user's language is unknown "
                                      "(and after `set: {language: null}`); the languages are its buttons.",
                          examples=["🌍 Which language should I use?"],
                          json_schema_extra=_fits(limits.INTERACTIVE_BODY))


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


class FlowFile(Model):
    """The whole of flows.yaml."""

    model_config = ConfigDict(title="Inspector WhatsApp flows.yaml")

    version: int = Field(1, description="The file format's version.", examples=[1])
    session: Session = Field(default_factory=Session, description="What runs when a conversation starts.",
                             examples=[{"identify": "accounts.identify"}])
    languages: Languages | None = Field(None, description="This file's language and the language question; "
                                                          "translations live in translations/<code>.yaml.",
                                        examples=[{"name": "English", "question": "🌍 Which language?"}])
    messages: dict[str, str] = Field(description="Shared texts, available in templates as `messages`; "
                                                 "`error_<kind>` rewords an action failure of that kind.",
                                     examples=[{"not_understood": "Sorry, I didn't understand that."}],
                                     json_schema_extra={"required": list(REQUIRED_MESSAGES),
                                                        "additionalProperties": {"type": "string",
                                                                                 **_fits(limits.TEXT_BODY)}})
    commands: dict[str, Command] = Field(default_factory=dict, description="Global commands, by name.",
                                         examples=[{"menu": {"keywords": ["menu"], "ids": ["menu"], "goto": "@menu"}}])
    notifications: dict[str, Notification] = Field(default_factory=dict,
                                                   description="Messages background jobs send, by name.",
                                                   examples=[{"inspection_reminder": {
                                                       "text": "⏰ Reminder", "template": {"name": "reminder"}}}])
    choices: dict[str, Choice | list[Choice]] = Field(
        default_factory=dict, description="Shared choices (or lists of them), by name: a state's `choices:` puts "
        "one in with `- use: name`, as if written there.",
        examples=[{"main_menu": {"id": "menu", "title": "Main menu", "goto": "@menu"}}])
    flows: dict[str, Flow] = Field(description="One flow per role, and shared flows, by name.",
                                   examples=[{"seeker": {"role": "seeker", "start": "menu", "menu": "menu",
                                                         "states": {"menu": {"say": "Hi!"}}}}])
