"""Per-user languages: the question asked once, texts in the user's language with English per text as the
fallback, the account's language for a new conversation, changing it, and plurals by the language's rule.

The fixture is the sample flows with a `languages:` section and a small, deliberately incomplete Pidgin file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fakeredis
import pytest

from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.timeouts import fire, timers_for
from tests.engine.conftest import SAMPLE, Backend, make_engine
from tests.shipped import edited, states_of

PHONE = "+2348000000077"
QUESTION = "Which language?"
PIDGIN = """\
code: pcm
name: Pidgin
keywords: {menu: [carry me go menu]}
texts:
  - {en: "Welcome! Send your email.", pcm: "Welcome o! Send your email."}
  - {en: "Hi {{ user.name }}! What next?", pcm: "How far {{ user.name }}! Wetin next?"}
  - {en: "Browse", pcm: "Look am"}
  - {en: "You said {{ how_many }} {{ plural(how_many, 'thing', 'things') }}.",
     pcm: "You talk {{ how_many }} {{ plural(how_many, 'tin', 'tins') }}."}
  - {en: "Remember {{ what }}.", pcm: "Remember {{ what }} o."}
"""


def with_languages(data: dict[str, Any]) -> None:
    data["session"]["remember_language"] = "test.remember"
    data["languages"] = {"name": "English", "question": QUESTION}
    data["commands"]["language"] = {"keywords": ["language"], "set": {"language": None}, "goto": "@menu"}
    states_of(data, "seeker")["count"]["timeouts"] = [{"after": "1d", "goto": "@menu"}]
    states_of(data, "seeker")["counted"]["say"] = "You said {{ how_many }} {{ plural(how_many, 'thing', 'things') }}."
    data["notifications"] = {"nudge": {"variables": ["what"], "text": "Remember {{ what }}.",
                                       "template": {"name": "nudge"}}}


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def remembered(backend: Backend) -> list[tuple[str, str]]:
    return backend.remembered


@pytest.fixture
def engine(tmp_path: Path, backend: Backend) -> Engine:
    path = tmp_path / "flows.yaml"
    path.write_text(edited(with_languages, SAMPLE.read_text()), encoding="utf-8")
    (tmp_path / "translations").mkdir()
    (tmp_path / "translations" / "pcm.yaml").write_text(PIDGIN, encoding="utf-8")
    return make_engine(path, backend, fakeredis.FakeAsyncRedis())


async def say(engine: Engine, text: str = "", phone: str = PHONE, **kw: Any):  # type: ignore[no-untyped-def]
    return await engine.handle(InboundEvent(phone=phone, text=text, **kw))


def texts(turn: Any) -> str:
    return "\n".join(m.text for m in turn.messages)


async def test_a_new_number_is_asked_once_then_everything_follows_its_choice(engine: Engine) -> None:
    turn = await say(engine, "hi")
    [question] = turn.messages
    assert question.text == QUESTION and [b.title for b in question.buttons] == ["English", "Pidgin"]
    assert (turn.flow, turn.state) == ("unlinked", "welcome")

    turn = await say(engine, "Pidgin", kind="button", reply_id="language:pcm")
    assert texts(turn) == "Welcome o! Send your email."
    assert (await engine.store.load(PHONE)).language == "pcm"

    turn = await say(engine, "ada@example.com")
    assert texts(turn) == "How far Ada! Wetin next?" and [b.title for b in turn.messages[0].buttons] == [
        "Look am", "Count"]  # `Count` has no translation: English, text by text
    turn = await say(engine, "Count", kind="button", reply_id="count")
    assert texts(turn) == "How many?" and QUESTION not in texts(turn)


async def test_plurals_follow_the_rule_of_the_users_language(engine: Engine) -> None:
    async def counted(phone: str, language: str, number: str) -> str:
        await engine.preset_language(phone, language)
        await say(engine, "hi", phone)
        await say(engine, "ada@example.com", phone)
        await say(engine, "Count", phone, kind="button", reply_id="count")
        return texts(await say(engine, number, phone))

    # English: one is 1 only. Pidgin (CLDR `one: i in 0 or n in 1`): 0 is "one" too.
    assert (await counted("+2348000000101", "en", "0")).startswith("You said 0 things.")
    assert (await counted("+2348000000102", "en", "1")).startswith("You said 1 thing.")
    assert (await counted("+2348000000103", "pcm", "0")).startswith("You talk 0 tin.")
    assert (await counted("+2348000000104", "pcm", "2")).startswith("You talk 2 tins.")


async def test_an_answer_that_is_not_a_language_means_english_and_answers_the_state(engine: Engine) -> None:
    await say(engine, "hi")
    turn = await say(engine, "ada@example.com")
    assert texts(turn) == "Hi Ada! What next?" and (turn.flow, turn.state) == ("seeker", "menu")
    assert (await engine.store.load(PHONE)).language == "en"


async def test_a_first_message_that_answers_the_start_state_waits_for_the_question(engine: Engine,
                                                                                   backend: Backend) -> None:
    turn = await say(engine, "ada@example.com")
    assert texts(turn) == QUESTION and backend.users == {}  # not linked yet: the question comes first
    turn = await say(engine, "2")  # the second language, by number
    assert texts(turn) == "How far Ada! Wetin next?" and PHONE in backend.users


async def test_the_accounts_language_is_used_and_a_linked_users_choice_is_kept_on_it(
        engine: Engine, backend: Backend, remembered: list[tuple[str, str]]) -> None:
    backend.users[PHONE] = {"id": "u1", "name": "Ada", "role": "seeker", "language": "pcm"}
    turn = await say(engine, "hi")
    assert texts(turn) == "How far Ada! Wetin next?"  # known from the account: never asked

    turn = await say(engine, "language")
    assert texts(turn) == QUESTION and (turn.flow, turn.state) == ("seeker", "menu")
    turn = await say(engine, "English", kind="button", reply_id="language:en")
    assert texts(turn) == "Hi Ada! What next?" and remembered == [(PHONE, "en")]
    assert [(c.name, c.args) for c in turn.calls] == [("test.remember", {"language": "en"})]
    assert (await engine.store.load(PHONE)).vars["user"]["language"] == "en"


async def test_an_unlinked_users_choice_stays_in_the_conversation(engine: Engine,
                                                                  remembered: list[tuple[str, str]]) -> None:
    await say(engine, "hi")
    await say(engine, "Pidgin", kind="button", reply_id="language:pcm")
    assert remembered == []  # no account to keep it on yet (linking takes it from the conversation)


async def test_keywords_of_the_users_language_work_besides_the_english_ones(engine: Engine) -> None:
    await engine.preset_language(PHONE, "pcm")
    await say(engine, "hi")
    await say(engine, "ada@example.com")
    await say(engine, "Count", kind="button", reply_id="count")
    turn = await say(engine, "carry me go menu")
    assert (turn.flow, turn.state) == ("seeker", "menu")
    turn = await say(engine, "menu")
    assert (turn.flow, turn.state) == ("seeker", "menu")


async def test_notifications_are_rendered_in_the_recipients_language(engine: Engine) -> None:
    assert engine.notification("nudge", PHONE, {"what": "Friday"}, in_window=True, language="pcm").text == (
        "Remember Friday o.")
    assert engine.notification("nudge", PHONE, {"what": "Friday"}, in_window=True).text == "Remember Friday."
    # A language nobody translated into falls back to the file's own.
    assert engine.notification("nudge", PHONE, {"what": "Friday"}, in_window=True, language="yo").text == (
        "Remember Friday.")
    assert engine.notice(PHONE, "rate_limited", language="pcm").text == "Slow down please."


async def test_without_translations_nobody_is_asked(tmp_path: Path, backend: Backend) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text(edited(with_languages, SAMPLE.read_text()), encoding="utf-8")
    engine = make_engine(path, backend, fakeredis.FakeAsyncRedis())
    turn = await say(engine, "hi")
    assert texts(turn) == "Welcome! Send your email."


async def test_a_timers_move_never_asks_the_question(engine: Engine) -> None:
    await engine.preset_language(PHONE, "en")
    await say(engine, "hi")
    await say(engine, "ada@example.com")
    await say(engine, "Count", kind="button", reply_id="count")
    async with engine.store.checkout(PHONE) as checkout:  # a conversation from before languages existed
        assert checkout.conversation is not None
        checkout.conversation.language = ""
        await checkout.commit(checkout.conversation)
    [timer] = timers_for(engine, await engine.store.load(PHONE))
    turn = await fire(engine, timer, in_window=True)
    assert turn is not None and (turn.flow, turn.state) == ("seeker", "menu") and QUESTION not in texts(turn)
    turn = await say(engine, "menu")  # the user's own next message is asked
    assert texts(turn) == QUESTION
