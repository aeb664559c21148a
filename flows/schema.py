"""The flows.yaml language as pydantic models: one source for validation and for the JSON Schema.

A state runs, in order: `set`, `call` (one action with `with`, `as`, `on_error`, `on_empty`, or a list of
them), `branch`, `say`, then `goto` (moves on at once), `subflow` (enters a shared flow), `return` (back to
the caller of a shared flow) or waits for input matched against its choices and `on` routes, with
`otherwise` as the fallback. Targets are `state`, `flow.state`, or `@menu`, `@start`, `@stay`, `@<state>`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from flows import limits
from flows.schema_base import SET, TARGET, Model
from flows.schema_inputs import Ask, Branch, OtherwiseField, Route, Timeout
from flows.schema_reuse import CallStep, Param, SubflowCall
from flows.schema_say import Choice, SayField, at_most, fits

ROLES = ("unlinked", "seeker", "agent", "inspector")


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
                       json_schema_extra=fits(limits.BUTTON_TITLE))


class Notification(Model):
    """A message the business starts (reminders, digests, alerts), sent by background jobs."""

    text: str = Field(description="Sent inside the 24-hour window; <= 1024 chars with buttons.",
                      examples=["⏰ Reminder: {{ inspection.property_title }} on {{ inspection.when }}"],
                      json_schema_extra=fits(limits.INTERACTIVE_BODY))
    variables: list[str] = Field(default_factory=list, description="Names the job passes to the templates.",
                                 examples=[["inspection"]])
    choices: list[NotificationChoice] = Field(default_factory=list, description="Up to 3 reply buttons.",
                                              examples=[[{"id": "menu", "title": "Main menu", "goto": "@menu"}]],
                                              json_schema_extra=at_most(limits.MAX_BUTTONS))
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
                      examples=["English"], json_schema_extra=fits(limits.BUTTON_TITLE))
    question: str = Field(description="Asked once, before the first state, when the user's language is unknown "
                                      "(and after `set: {language: null}`); the languages are its buttons.",
                          examples=["🌍 Which language should I use?"],
                          json_schema_extra=fits(limits.INTERACTIVE_BODY))


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
                                                                                 **fits(limits.TEXT_BODY)}})
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
