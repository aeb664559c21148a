"""Other languages: `translations/<code>.yaml` beside flows.yaml, each text keyed by its English original.

Keyed by text, gettext style, not by path: moving a state (or sharing it in a sub-flow) keeps its
translations; rewording an English text makes it fall back to English until it is translated again, and
`check` says so. A translated file is the English data with every translated text swapped in (and each
command's extra keywords added), validated and checked like flows.yaml itself.

    code: pcm
    name: "Naijá Pidgin"
    keywords: {menu: [menu, "carry me go menu"]}
    texts:
      - en: "Hi {{ user.name }}! What would you like to do?"
        pcm: "How far {{ user.name }}! Wetin you wan do?"
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from flows.problems import Problem
from flows.source import Path, parse
from flows.texts import Wording, wordings

FOLDER = "translations"


@dataclass
class Translation:
    """One language's texts, by English text (stripped), with where each translation is written."""

    code: str
    name: str
    file: str
    texts: dict[str, str] = field(default_factory=dict)
    where: dict[str, tuple[int, int]] = field(default_factory=dict)
    keywords: dict[str, list[str]] = field(default_factory=dict)
    keyword_where: dict[str, tuple[int, int]] = field(default_factory=dict)
    name_where: tuple[int, int] = (1, 1)
    problems: list[Problem] = field(default_factory=list)

    def get(self, english: str) -> str | None:
        return self.texts.get(english.strip())


def translation_files(flows_file: str | FilePath) -> list[FilePath]:
    """The translation files of a flows file: `translations/*.yaml` in its folder, by name."""
    folder = FilePath(flows_file).parent / FOLDER
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_translations(flows_file: str | FilePath) -> list[Translation]:
    return [read_translation(p.read_text(encoding="utf-8"), str(p), p.stem) for p in translation_files(flows_file)]


def read_translation(text: str, file: str, code: str) -> Translation:
    """Parse one translation file; what is wrong with its shape is in `problems` (errors)."""
    source, problems = parse(text, file)
    found = Translation(code=code, name=code, file=file, problems=list(problems))
    if source is None:
        return found
    data = source.data if isinstance(source.data, dict) else {}

    def problem(path: Path, message: str) -> None:
        found.problems.append(source.problem(path, message, label=f"{code}." + ".".join(map(str, path))))

    if data.get("code", code) != code:
        problem(("code",), f"`code: {data.get('code')}` but the file is named {code}.yaml")
    name = data.get("name")
    if isinstance(name, str) and name.strip():
        found.name = name.strip()
        found.name_where = source.locate(("name",))
    else:
        problem(("name",), "`name` is required: the language's name as offered in the language question")
    unknown = sorted(set(data) - {"code", "name", "keywords", "texts"})
    for key in unknown:
        problem((key,), f"unknown key `{key}` (expected one of: code, name, keywords, texts)")
    keywords = data.get("keywords") or {}
    if not isinstance(keywords, dict):
        problem(("keywords",), "`keywords` maps a command's name to a list of words")
        keywords = {}
    for command, words in keywords.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            problem(("keywords", command), "expected a list of words")
            continue
        found.keywords[command] = words
        found.keyword_where[command] = source.locate(("keywords", command))
    texts = data.get("texts") or []
    if not isinstance(texts, list):
        problem(("texts",), f"`texts` is a list of {{en: ..., {code}: ...}} pairs")
        texts = []
    for i, entry in enumerate(texts):
        english = entry.get("en") if isinstance(entry, dict) else None
        translated = entry.get(code) if isinstance(entry, dict) else None
        if not isinstance(english, str) or not isinstance(translated, str) or set(entry) != {"en", code}:
            problem(("texts", i), f"each entry is `en:` (the English text of flows.yaml) and `{code}:` "
                                  "(its translation)")
            continue
        key = english.strip()
        if key in found.texts:
            problem(("texts", i, "en"), "this English text is translated twice; the second would silently win")
            continue
        found.texts[key] = translated
        found.where[key] = source.locate(("texts", i, code))
    return found


def translate(data: Any, translation: Translation) -> tuple[Any, dict[Path, Wording]]:
    """The flows data in `translation`'s language, and the English wording of each path it translated.

    Texts without a translation stay English; the data given is not changed."""
    out = copy.deepcopy(data)
    done: dict[Path, Wording] = {}
    for wording in wordings(data):
        translated = translation.get(wording.text)
        if translated is None:
            continue
        *parents, key = wording.path
        node = out
        for part in parents:
            node = node[part]
        node[key] = translated
        done[wording.path] = wording
    commands = out.get("commands") if isinstance(out, dict) else None
    for name, words in translation.keywords.items():
        command = commands.get(name) if isinstance(commands, dict) else None
        if isinstance(command, dict):
            command["keywords"] = [*(command.get("keywords") or []), *words]
    return out, done
