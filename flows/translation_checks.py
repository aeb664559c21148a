"""What `check` says about translations: each English text still untranslated (a note at the English text),
each translation whose English is gone (a note at the translation), and what is wrong in a translated text
(an error at the translation: a broken template, an unknown name, a WhatsApp limit).

The translated file is checked by the same FlowChecker as flows.yaml; only the problems of translated texts
are kept (the rest were reported on the English already).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from flows import limits
from flows.checks import ActionSignatures, FlowChecker
from flows.plurals import handwritten_plural
from flows.problems import Problem
from flows.schema import FlowFile
from flows.source import Path, Source, dotted
from flows.texts import Wording, wordings
from flows.translations import Translation, translate

#: How much of a text a note quotes.
QUOTE = 50


def quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE else flat[: QUOTE - 1] + "…"


def plural_notes(source: Source) -> list[Problem]:
    """A note at every hand-written English plural rule, pointing at `plural()`."""
    return [source.problem(w.path, f"`{found}` is an English plural rule written by hand; write "
                           "{{ plural(n, 'one form', 'other form') }}, which follows each language's rule",
                           severity="note")
            for w in wordings(source.data) if (found := handwritten_plural(w.text))]


def language_sets(source: Source, codes: Sequence[str]) -> list[Problem]:
    """`set: {language: x}` anywhere: x must be null (ask again), a language on offer, or a template."""
    found: list[Problem] = []

    def walk(node: object, path: Path) -> None:
        if isinstance(node, dict):
            values = node.get("set")
            if isinstance(values, dict) and "language" in values:
                value = values["language"]
                if value not in (None, "") and not (isinstance(value, str) and "{" in value) and value not in codes:
                    found.append(source.problem((*path, "set", "language"),
                                                f"`{value}` is not a language on offer ({', '.join(codes) or 'none'}); "
                                                "null asks the user again"))
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(source.data, ())
    return found


def check_translations(source: Source, spec: FlowFile, translations: Sequence[Translation],
                       actions: ActionSignatures | None = None) -> tuple[list[Problem], dict[str, FlowFile]]:
    """Problems of every translation, and the translated spec of each language that has no errors."""
    problems: list[Problem] = []
    specs: dict[str, FlowFile] = {}
    english = list(wordings(source.data))
    if translations and spec.languages is None:
        problems.append(Problem("languages", f"{len(translations)} translation file(s) but no `languages:` section "
                                "(its name and question), so nobody is asked and nothing is translated",
                                1, 1, "warning", source.file))
    for translation in translations:
        found = [*translation.problems, *_coverage(source, english, translation)]
        if spec.languages is not None and translation.code == spec.languages.code:
            found.append(Problem("code", f"`{translation.code}` is the language of {source.file} itself",
                                 1, 1, "error", translation.file))
        if len(translation.name) > limits.BUTTON_TITLE:
            found.append(Problem("name", f"`{translation.name}` is {len(translation.name)} chars; it is a button "
                                 f"title in the language question (WhatsApp allows {limits.BUTTON_TITLE})",
                                 *translation.name_where, "error", translation.file))
        for command, (line, column) in translation.keyword_where.items():
            if command not in spec.commands:
                found.append(Problem(f"keywords.{command}", f"no command `{command}` in {source.file} "
                                     f"(commands: {', '.join(spec.commands)})", line, column, "error",
                                     translation.file))
        translated, errors = _check_translated(source, translation, actions)
        found.extend(errors)
        if translated is not None and not any(p.severity == "error" for p in found):
            specs[translation.code] = translated
        problems.extend(found)
    return problems, specs


def _coverage(source: Source, english: list[Wording], translation: Translation) -> list[Problem]:
    code = translation.code
    current = {w.text.strip() for w in english}
    english = [w for w in english if w.has_words]  # `{{ help_text }}` is translated where its value is written
    missing = [w for w in english if translation.get(w.text) is None]
    out = [source.problem(w.path, f"no {code} translation for `{quote(w.text)}` (sent in English)", "note")
           for w in missing]
    for text, (line, column) in translation.where.items():
        if text not in current:
            out.append(Problem(f"{code}.texts", f"`{quote(text)}` is no longer a text of {source.file} "
                               "(reworded or removed): this translation is never used", line, column, "note",
                               translation.file))
    done = len(english) - len(missing)
    out.append(Problem("", f"{translation.name} ({code}): {done} of {len(english)} texts translated, {len(missing)} "
                       "sent in English", 0, 0, "note", translation.file))
    return out


def _check_translated(source: Source, translation: Translation, actions: ActionSignatures | None
                      ) -> tuple[FlowFile | None, list[Problem]]:
    """The translated spec, and the errors and warnings of its translated texts, located in the translation."""
    data, done = translate(source.data, translation)
    where = {dotted(path): translation.where[w.text.strip()] for path, w in done.items()}
    try:
        translated = FlowFile.model_validate(data)
    except ValidationError as exc:
        return None, [Problem(translation.code, f"the translated file is not valid: {exc.errors()[0]['msg']}",
                              1, 1, "error", translation.file)]
    report = FlowChecker(translated, Source(data, translation.file, dict(source.positions)), actions).run()
    out = []
    for problem in report.problems:
        if problem.severity == "note":
            continue
        label = _owner(problem.path, where)
        if label is None:
            continue
        line, column = where[label]
        out.append(Problem(problem.path, f"in {translation.code}: {problem.message}", line, column,
                           problem.severity, translation.file))
    return translated, out


def _owner(path: str, labels: dict[str, tuple[int, int]]) -> str | None:
    """The translated text a problem's path lies in (the path itself or one of its parents)."""
    while path:
        if path in labels:
            return path
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return None
        path = path[:cut]
    return None
