"""Answers to typed questions (`ask:`) for `explore`: a valid and a wrong answer of each type, made from the
question's own bounds and options, and what the engine must do with each.

The answers are written here, not taken from the engine's parser, so a parser that refuses a fair answer (or
takes a wrong one) is a finding rather than the oracle. Each valid answer is one a person would type and has
a single meaning (`₦45,000`, `25/12/2027`, `2pm`, `0801 234 5678`); each wrong one fails the type or a bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.asks import TRIES
from flows.edges import ANSWER, GAVE_UP
from flows.schema_inputs import Ask
from flows.targets import STAY

#: Span drawn from when a question has no upper bound.
_SPAN = {"number": 1000, "money": 5_000_000, "date": 365, "text": 30}
_NOT_NUMBERS = ["lots", "about ten", "🏠", "twelve-ish", "n/a"]
_NOT_DATES = ["someday", "32/13", "2027-02-30", "next blue moon", "yesterday-ish"]
_NOT_TIMES = ["25:00", "noonish", "13pm", "10:75", "later"]
_NOT_EMAILS = ["my email", "ada@", "@example.com", "ada.example.com", "ada at example dot com"]
_NOT_PHONES = ["12345", "call me", "+234-abc-def", "0801", "phone"]
_NOT_CHOICES = ["none of these", "all of them", "🤷", "something else"]


@dataclass(frozen=True)
class Answer:
    """What the user types, and the value a valid answer must be stored as (None for a wrong one)."""

    text: str
    valid: bool
    value: Any = None


def answer_for(ask: Ask, valid: bool, n: int, today: date) -> Answer:
    """A valid or a wrong answer to `ask`, picked by `n` (hypothesis shrinks it towards the plainest)."""
    make = _VALID if valid else _WRONG
    return make[ask.type](ask, abs(n), today)


def _bounds(ask: Ask, floor: int) -> tuple[int, int]:
    low = int(ask.min) if isinstance(ask.min, int | float) and not isinstance(ask.min, bool) else floor
    high = int(ask.max) if isinstance(ask.max, int | float) and not isinstance(ask.max, bool) else (
        low + _SPAN.get(ask.type, 1000))
    return low, high


def _valid_number(ask: Ask, n: int, today: date) -> Answer:
    low, high = _bounds(ask, 0)
    value = max(low, 0) + n % (high - max(low, 0) + 1)
    forms = [str(value), f"{value:,}"]
    if ask.type == "money":
        forms += [f"₦{value:,}", f"NGN {value}"]
        if value and value % 1000 == 0:
            forms.append(f"{value // 1000}k")
        if value and value % 1_000_000 == 0:
            forms.append(f"{value // 1_000_000}m")
    return Answer(forms[(n // 7) % len(forms)], True, value)


def _wrong_number(ask: Ask, n: int, today: date) -> Answer:
    forms = list(_NOT_NUMBERS)
    if isinstance(ask.min, int | float) and ask.min > 0:
        forms.append(str(int(ask.min) - 1) if float(ask.min).is_integer() else "0")
    if isinstance(ask.max, int | float):
        forms.append(f"{int(ask.max) + 1:,}")
    return Answer(forms[n % len(forms)], False)


def _date_bound(bound: Any, today: date) -> date | None:
    if bound == "today":
        return today
    if isinstance(bound, str):
        return date.fromisoformat(bound)
    return None


def _valid_date(ask: Ask, n: int, today: date) -> Answer:
    low = _date_bound(ask.min, today) or today - timedelta(days=30)
    high = _date_bound(ask.max, today) or low + timedelta(days=_SPAN["date"])
    day = low + timedelta(days=n % ((high - low).days + 1))
    forms = [day.isoformat(), f"{day.day}/{day.month}/{day.year}", f"{day.day:02d}-{day.month:02d}-{day.year}"]
    if day in (today, today + timedelta(days=1)):  # first, so a shrunk transcript replays on another day
        forms.insert(0, "today" if day == today else "tomorrow")
    return Answer(forms[(n // 7) % len(forms)], True, day.isoformat())


def _wrong_date(ask: Ask, n: int, today: date) -> Answer:
    forms = list(_NOT_DATES)
    low, high = _date_bound(ask.min, today), _date_bound(ask.max, today)
    if low is not None:
        forms.append((low - timedelta(days=1 + n % 40)).isoformat())
    if high is not None:
        forms.append((high + timedelta(days=1 + n % 40)).isoformat())
    return Answer(forms[n % len(forms)], False)


def _valid_time(ask: Ask, n: int, today: date) -> Answer:
    hour, minute = n % 24, (n // 24) % 60
    forms = [f"{hour:02d}:{minute:02d}", f"{hour}:{minute:02d}"]
    if minute == 0:
        twelve = hour % 12 or 12
        forms.append(f"{twelve}{'am' if hour < 12 else 'pm'}")
    return Answer(forms[(n // 7) % len(forms)], True, f"{hour:02d}:{minute:02d}")


def _wrong_time(ask: Ask, n: int, today: date) -> Answer:
    return Answer(_NOT_TIMES[n % len(_NOT_TIMES)], False)


def _valid_email(ask: Ask, n: int, today: date) -> Answer:
    address = f"Ada.{n}@Example.com"
    forms = [address, f"it is {address}", f"{address.lower()} "]
    return Answer(forms[(n // 7) % len(forms)], True, address.lower())


def _wrong_email(ask: Ask, n: int, today: date) -> Answer:
    return Answer(_NOT_EMAILS[n % len(_NOT_EMAILS)], False)


def _valid_phone(ask: Ask, n: int, today: date) -> Answer:
    digits = f"80{n % 10**8:08d}"
    forms = [f"0{digits[:3]} {digits[3:6]} {digits[6:]}", f"+234{digits}", f"234{digits}", f"0{digits}"]
    return Answer(forms[(n // 7) % len(forms)], True, f"+234{digits}")


def _wrong_phone(ask: Ask, n: int, today: date) -> Answer:
    return Answer(_NOT_PHONES[n % len(_NOT_PHONES)], False)


def _valid_choice(ask: Ask, n: int, today: date) -> Answer:
    index = n % len(ask.options)
    option = ask.options[index]
    forms = [option, option.upper(), str(index + 1)]
    return Answer(forms[(n // 7) % len(forms)], True, option)


def _wrong_choice(ask: Ask, n: int, today: date) -> Answer:
    forms = [*_NOT_CHOICES, str(len(ask.options) + 1)]
    return Answer(forms[n % len(forms)], False)


def _valid_text(ask: Ask, n: int, today: date) -> Answer:
    low, high = _bounds(ask, 1)
    length = max(low, 1) + n % (min(high, 1000) - max(low, 1) + 1)
    text = ("a note " * (length // 7 + 1))[:length].strip() or "a"
    text = text + "x" * (length - len(text))  # strip() ate a trailing space: keep the length drawn
    return Answer(text, True, text)


def _wrong_text(ask: Ask, n: int, today: date) -> Answer:
    forms = [""]
    if isinstance(ask.min, int) and ask.min > 1:
        forms.append("n" * (ask.min - 1))
    if isinstance(ask.max, int) and ask.max < 1000:
        forms.append(("long " * (ask.max // 5 + 2))[:ask.max + 1].replace(" ", "_"))
    return Answer(forms[n % len(forms)], False)


_VALID = {"number": _valid_number, "money": _valid_number, "date": _valid_date, "time": _valid_time,
          "email": _valid_email, "phone": _valid_phone, "choice": _valid_choice, "text": _valid_text}
_WRONG = {"number": _wrong_number, "money": _wrong_number, "date": _wrong_date, "time": _wrong_time,
          "email": _wrong_email, "phone": _wrong_phone, "choice": _wrong_choice, "text": _wrong_text}


def ask_outcome(ask: Ask, where: tuple[str, str], answer: Answer, tries_before: int, routes: bool,
                trail: list[tuple[str, str, str]], after: Any) -> tuple[str, str | None]:
    """How the engine took `answer` (`answered`, `re-asked`, `gave up`, `routed`) and the problem, if any.

    `routes`: the state has `on:` routes (tried after the question, they may take a wrong answer); `trail`:
    the edges the turn fired; `after`: the conversation as committed."""
    flow, state = where
    fired = {trigger for f, s, trigger in trail if (f, s) == where}
    stays = ask.goto is None or ask.goto == STAY
    if answer.valid:
        if ANSWER not in fired and not stays:
            return "refused", (f"the valid {ask.type} answer {answer.text!r} to {flow}.{state} was not taken "
                               f"(expected `ask.goto: {ask.goto}`)")
        stored = after.vars.get(ask.into) if after is not None else None
        if not stays and stored != answer.value:
            return "answered", (f"the answer {answer.text!r} to {flow}.{state} was stored in `{ask.into}` as "
                                f"{stored!r}, expected {answer.value!r}")
        return "answered", None
    if ANSWER in fired:
        return "answered", f"the wrong {ask.type} answer {answer.text!r} to {flow}.{state} was taken as valid"
    tries = tries_before + 1
    must_give_up = ask.on_fail is not None and tries > ask.retries
    if GAVE_UP in fired:
        if not must_give_up:
            return "gave up", (f"{flow}.{state} went to `on_fail` after {tries} wrong answer(s); "
                               f"`retries: {ask.retries}` allows more")
        return "gave up", None
    asked_again = after is not None and (after.flow, after.state) == where and int(after.vars.get(TRIES) or 0) == tries
    if asked_again and must_give_up:
        return "re-asked", (f"{flow}.{state} did not go to `on_fail: {ask.on_fail}` after {tries} wrong answers "
                            f"(`retries: {ask.retries}`)")
    if asked_again:
        return "re-asked", None
    if routes:
        return "routed", None  # an `on:` route of the state took it, as the engine tries them after the question
    at = f"{after.flow}.{after.state}" if after is not None else "nowhere"
    return "re-asked", (f"the wrong answer {answer.text!r} to {flow}.{state} was neither asked again (try {tries}) "
                        f"nor sent to `on_fail`: the user is in {at}")
