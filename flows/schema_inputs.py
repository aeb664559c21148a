"""How a waiting state reads the user's answer: `on:` routes, a typed `ask:`, `branch`, `otherwise` and
`timeouts` (what happens when nobody answers)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from flows.schema_base import SET, TARGET, Model

CaptureKind = Literal["email", "code", "number", "date", "time", "text", "location"]


def _otherwise_shorthand(value: Any) -> Any:
    return {"say": value} if isinstance(value, str) else value


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
