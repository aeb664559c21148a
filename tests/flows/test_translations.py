"""Translations beside a flows file: loading, what `check` notes (untranslated, orphaned, counts), what it
rejects in a translated text (limits, templates, names), and `plural()` by Babel's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.loader import check_text, load_flows
from flows.plurals import handwritten_plural, plural_function
from flows.problems import FlowsError, Problem
from flows.source import parse
from flows.texts import wordings
from flows.translations import read_translation, translate
from tests.shipped import edited

SAMPLE = Path(__file__).parent / "sample.yaml"


def with_languages(data: dict[str, Any]) -> None:
    data["languages"] = {"name": "English", "question": "Which language?"}


FLOWS = edited(with_languages, SAMPLE.read_text())

GOOD = """\
code: pcm
name: Pidgin
keywords: {menu: [carry me go menu]}
texts:
  - en: "Welcome! Send your email."
    pcm: "Welcome o! Send your email."
  - en: "Hi {{ user.name }}! What next?"
    pcm: "How far {{ user.name }}! Wetin next?"
  - en: "An English text that was reworded since"
    pcm: "Old Pidgin"
"""


def check(translation_text: str, flows: str = FLOWS) -> tuple[Any, list[Problem]]:
    translation = read_translation(translation_text, "translations/pcm.yaml", "pcm")
    spec, report = check_text(flows, "flows.yaml", None, [translation])
    return report, report.problems


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_translation_swaps_texts_by_their_english_and_adds_keywords() -> None:
    source, _ = parse(FLOWS)
    translation = read_translation(GOOD, "pcm.yaml", "pcm")
    assert not translation.problems and translation.name == "Pidgin"
    data, done = translate(source.data, translation)
    assert data["flows"]["unlinked"]["states"]["welcome"]["say"]["text"] == "Welcome o! Send your email."
    assert data["commands"]["menu"]["keywords"] == ["menu", "home", "carry me go menu"]
    assert {w.label for w in done.values()} == {"unlinked.welcome.say.text", "seeker.menu.say.text"}
    assert source.data["flows"]["unlinked"]["states"]["welcome"]["say"]["text"] == "Welcome! Send your email."


def test_check_notes_each_untranslated_text_at_its_english_and_each_orphan_at_the_translation() -> None:
    report, problems = check(GOOD)
    assert not report.errors and set(report.translations) == {"pcm"}
    notes = [p for p in problems if p.severity == "note"]
    untranslated = [p for p in notes if p.message.startswith("no pcm translation for")]
    english = [w for w in wordings(parse(FLOWS)[0].data) if w.has_words]
    assert len(untranslated) == len(english) - 2
    assert not any(p.message.startswith("no pcm translation for `{{") for p in untranslated)  # nothing to translate
    browse = next(p for p in untranslated if p.path == "seeker.menu.say.choices[0].title")
    assert (browse.file, browse.line) == ("flows.yaml", line_of(FLOWS, "title: Browse"))
    [orphan] = [p for p in notes if "no longer a text" in p.message]
    assert (orphan.file, orphan.line) == ("translations/pcm.yaml", line_of(GOOD, "Old Pidgin"))
    [count] = [p for p in notes if p.line == 0]
    assert count is problems[-1] and count.message == f"Pidgin (pcm): 2 of {len(english)} texts translated, {len(english) - 2} sent in English"


@pytest.mark.parametrize(("english", "translated", "expected"), [
    ("Browse", "A button title much longer than twenty", "WhatsApp allows 20"),
    ("Hi {{ user.name }}! What next?", "How far {{ user.name }! Wetin next?", "template syntax error"),
    ("Hi {{ user.name }}! What next?", "How far {{ usr.name }}!", "`usr` is never set"),
])
def test_a_translation_that_breaks_a_limit_or_a_template_is_an_error_at_the_translation(
        english: str, translated: str, expected: str) -> None:
    text = f'code: pcm\nname: Pidgin\ntexts:\n  - en: "{english}"\n    pcm: "{translated}"\n'
    report, _ = check(text)
    [error] = report.errors
    assert (error.file, error.line) == ("translations/pcm.yaml", 5)
    assert error.message.startswith("in pcm: ") and expected in error.message
    assert "pcm" not in report.translations  # a language with errors is not offered


def test_a_badly_shaped_file_and_an_unknown_command_are_errors() -> None:
    text = ("code: yo\nname: A name far too long for a button\nkeywords: {menuu: [x]}\n"
            "texts:\n  - {en: Browse}\n  - {en: Browse, pcm: Wo, yo: Wo}\n")
    report, _ = check(text)
    messages = [e.message for e in report.errors]
    assert any("`code: yo` but the file is named pcm.yaml" in m for m in messages)
    assert [e.line for e in report.errors if "is a button title in the language question" in e.message] == [2]
    assert any("no command `menuu`" in m for m in messages)
    assert sum("each entry is `en:`" in m for m in messages) == 2


def test_translations_without_a_languages_section_are_a_warning() -> None:
    translation = read_translation(GOOD, "translations/pcm.yaml", "pcm")
    _, report = check_text(SAMPLE.read_text(), "flows.yaml", None, [translation])
    assert [p.message for p in report.problems if p.severity == "warning" and p.path == "languages"] == [
        "1 translation file(s) but no `languages:` section (its name and question), so nobody is asked and "
        "nothing is translated"]


def test_load_flows_reads_translations_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "flows.yaml").write_text(FLOWS, encoding="utf-8")
    alone = load_flows(tmp_path / "flows.yaml")
    assert alone.languages == [] and alone.translations == {}
    (tmp_path / "translations").mkdir()
    (tmp_path / "translations" / "pcm.yaml").write_text(GOOD, encoding="utf-8")
    loaded = load_flows(tmp_path / "flows.yaml")
    assert loaded.languages == [("en", "English"), ("pcm", "Pidgin")]
    assert loaded.translations["pcm"].flows["seeker"].states["menu"].say.text == "How far {{ user.name }}! Wetin next?"
    assert loaded.sha256 != alone.sha256  # a changed translation reloads like a changed flows file
    (tmp_path / "translations" / "pcm.yaml").write_text(GOOD.replace("Wetin next?", "{{ oops"), encoding="utf-8")
    with pytest.raises(FlowsError, match=r"translations/pcm.yaml:8:.*in pcm: template syntax error"):
        load_flows(tmp_path / "flows.yaml")


def test_plural_follows_each_languages_cldr_rule() -> None:
    english, pidgin, unknown = plural_function("en"), plural_function("pcm"), plural_function("xx-nowhere")
    assert [english(n, "try", "tries") for n in (0, 1, 2)] == ["tries", "try", "tries"]
    assert [pidgin(n, "chance", "chances") for n in (0, 1, 2)] == ["chance", "chance", "chances"]
    assert unknown(1, "one", "other") == "one" and english("many", "one", "other") == "other"
    assert plural_function("ar")(2, "one", "other", two="two") == "two"


def test_check_points_hand_written_english_plurals_at_plural() -> None:
    assert handwritten_plural("{{ n }} inspection{{ 's' if n != 1 }}") == "{{ 's' if n != 1 }}"
    assert handwritten_plural("{{ 'try' if n == 1 else 'tries' }}") == "{{ 'try' if n == 1 else 'tries' }}"
    assert handwritten_plural("{{ plural(n, 'try', 'tries') }} {{ 'on' if enabled else 'off' }}") is None
    def hand_written(data: dict[str, Any]) -> None:
        data["flows"]["seeker"]["states"]["menu"]["say"]["text"] = "{{ page }} page{{ 's' if page != 1 }}"

    flows = edited(hand_written, FLOWS)
    _, report = check_text(flows)
    [note] = [p for p in report.problems if "plural rule written by hand" in p.message]
    assert note.severity == "note" and note.path == "seeker.menu.say.text"


def test_setting_a_language_nobody_offers_is_an_error() -> None:
    def sets(data: dict[str, Any]) -> None:
        data["commands"]["pidgin"] = {"keywords": ["pidgin"], "set": {"language": "pcm"}, "goto": "@menu"}
        data["commands"]["ask"] = {"keywords": ["ask"], "set": {"language": None}, "goto": "@menu"}

    flows = edited(sets, FLOWS)
    _, report = check_text(flows)
    [error] = report.errors
    assert error.path == "commands.pidgin.set.language" and "`pcm` is not a language on offer (en)" in error.message
    report, _ = check(GOOD, flows)
    assert not report.errors  # with translations/pcm.yaml it is
