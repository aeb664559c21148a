"""The reuse constructs of flows.yaml: several action calls in one state, and shared flows entered like a
function (declared parameters, a return to the caller, a returned value)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flows.schema_base import TARGET, Model

#: Shared flows inside shared flows, at most this deep (the engine's bound on `Conversation.stack`); `check`
#: rejects deeper chains and any recursion.
MAX_DEPTH = 5

#: `on_error: "@continue"`: the failure is noted in `error` and the state carries on with its next call.
CONTINUE = "@continue"


class CallStep(Model):
    """One action call of a `call:` list: each has its own arguments, result name and failure route."""

    action: str = Field(description="Action name (`python main.py actions` lists them).",
                        examples=["jobs.schedule_reminder"])
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="The action's arguments, "
                                  "templated.", examples=[{"inspection_id": "{{ booking.id }}"}])
    as_: str | None = Field(None, alias="as", description="Where the result goes; default `result`.",
                            examples=["reminder"])
    on_error: str | None = Field(None, description=TARGET + " Where a failure leads (`error` holds why); "
                                 "`@continue` carries on with the next call; omitted: the failure is said and "
                                 "the user is back at their last prompt.", examples=["booking_failed", CONTINUE])
    on_empty: str | None = Field(None, description="Target when the action returns nothing ([], {}, {items: []}).",
                                 examples=["no_properties"])


class Param(Model):
    """A parameter of a shared flow: required unless it has a default."""

    description: str = Field("", description="A note for staff; never sent.", examples=["The help text to show."])
    required: bool = Field(True, description="Whether every caller must pass it (false when `default` is given).",
                           examples=[True])
    default: Any = Field(None, description="The value when a caller does not pass it (makes it optional).",
                         examples=["seeker"])

    def model_post_init(self, context: Any, /) -> None:
        if "default" in self.model_fields_set:
            self.required = False


class SubflowCall(Model):
    """Enter a shared flow with arguments; when it returns, go on to `then` in this flow."""

    flow: str = Field(description="The shared flow to enter (a flow with `role: shared`).", examples=["account"])
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="Its parameters, templated in "
                                  "this state's context.", examples=[{"help_text": "Your help text"}])
    then: str = Field(description=TARGET + " Where the conversation goes when the shared flow returns.",
                      examples=["menu"])
    as_: str | None = Field(None, alias="as", description="Context name the returned value is stored under.",
                            examples=["answer"])
