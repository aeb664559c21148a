"""Loading flows.yaml: parse, validate the schema, run the checks, report every problem at once."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from flows.checks import ActionSignatures, CheckReport, FlowChecker
from flows.problems import FlowsError, Problem
from flows.recovery import recover
from flows.schema import FlowFile
from flows.snippets import expand_snippets
from flows.source import Source, dotted, parse
from flows.translation_checks import check_translations, language_sets, plural_notes
from flows.translations import Translation, load_translations


@dataclass
class LoadedFlows:
    """A valid flows file, with what the checker had to say about it."""

    spec: FlowFile
    report: CheckReport
    path: str
    sha256: str
    loaded_at: float = field(default_factory=time.time)
    #: The spec in each other language (translations/<code>.yaml), by code.
    translations: dict[str, FlowFile] = field(default_factory=dict)
    #: Every language on offer, this file's first: (code, name).
    languages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def hash(self) -> str:
        return self.sha256[:12]


def check_text(
    text: str, file: str = "flows.yaml", actions: ActionSignatures | None = None,
    translations: Sequence[Translation] = (),
) -> tuple[FlowFile | None, CheckReport]:
    """Everything wrong with `text` (and its `translations`), as problems; the spec too when it passed the schema.

    The translated specs, by language, are in `report.translations`."""
    report = CheckReport()
    source, problems = parse(text, file)
    report.problems.extend(problems)
    if source is None:
        return None, report
    snippet_problems, notes = expand_snippets(source)
    try:
        spec: FlowFile | None = FlowFile.model_validate(source.data)
    except ValidationError as exc:
        spec = None
        report.problems.extend(_schema_problems(exc, source))
    # Schema errors cost only their node: the rest of the file is checked in the same run.
    recovered = recover(source.data) if spec is None else None
    if spec is None and recovered is None:
        report.problems = _placed(report.problems, notes, snippet_problems)
        return None, report
    checked = FlowChecker(spec or recovered.spec, source, actions).run()  # type: ignore[union-attr]
    found = [p for p in checked.problems if recovered is None or recovered.keep(p)]
    found.extend(plural_notes(source))
    if spec is not None:
        codes = [spec.languages.code] if spec.languages else []
        found.extend(language_sets(source, [*codes, *(t.code for t in translations)]))
    if spec is not None and translations:
        found_translations, checked.translations = check_translations(source, spec, translations, actions)
        found.extend(found_translations)
    # This file's problems first, then each translation's, its summary (line 0: the whole file) last.
    checked.problems = sorted(_placed([*report.problems, *found], notes, snippet_problems),
                              key=lambda p: (p.file != file, p.file, p.line == 0, p.line, p.column))
    return spec, checked


def _placed(problems: list[Problem], notes: dict[str, str], expanding: list[Problem]) -> list[Problem]:
    """Sorted by position, with the problems of expanding shared choices; a problem in a shared choice says
    which `use:` brought it in, and is listed once per use rather than once per check of each copy."""
    out: list[Problem] = list(expanding)
    seen: set[tuple[str, int, int, str]] = set()
    for problem in problems:
        note = next((n for label, n in notes.items() if problem.path == label
                     or problem.path.startswith((label + ".", label + "["))), "")
        if note:
            problem = replace(problem, message=problem.message + note)
        key = (problem.path, problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return sorted(out, key=lambda p: (p.line, p.column))


def load_flows(path: str | Path, actions: ActionSignatures | None = None) -> LoadedFlows:
    """Load and check a flows file; raise FlowsError listing every problem when it has errors."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FlowsError([Problem("", f"cannot read the file: {exc.strerror}", file=str(path))]) from None
    text = raw.decode("utf-8", errors="replace")
    translations = load_translations(path)
    spec, report = check_text(text, str(path), actions, translations)
    if spec is None or report.errors:
        raise FlowsError(report.problems)
    digest = hashlib.sha256(raw)
    for translation in translations:  # a changed translation is a changed file: reload, `diff`
        digest.update(Path(translation.file).read_bytes())
    languages = [(spec.languages.code, spec.languages.name)] if spec.languages else []
    languages += [(t.code, t.name) for t in translations if t.code in report.translations]
    return LoadedFlows(spec=spec, report=report, path=str(path), sha256=digest.hexdigest(),
                       translations=report.translations, languages=languages if len(languages) > 1 else [])


def _schema_problems(exc: ValidationError, source: Source) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = error["msg"].removeprefix("Value error, ")
        kind = error["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key `{loc[-1]}`" + (f" (expected one of: {', '.join(allowed)})" if allowed else "")
        elif kind == "missing":
            message = f"`{loc[-1]}` is required here"
        elif kind in {"string_type", "int_type", "list_type", "dict_type", "model_type", "bool_type"}:
            message = f"{message} (got {type(error.get('input')).__name__})"
        problems.append(source.problem(loc, message, label=dotted(loc)))
    return problems


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Walk the schema along `loc` to list the keys valid at that point."""
    model: Any = FlowFile
    for part in loc:
        model = _step(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or name for name, f in model.model_fields.items()]
    return []


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, f in tp.model_fields.items():
            if part in (name, f.alias):
                return _unwrap(f.annotation)
        return None
    origin = get_origin(tp)
    if origin in (dict, list):
        return _unwrap(get_args(tp)[-1])
    return None


def _unwrap(tp: Any) -> Any:
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) not in (dict, list) and args:
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if models else args[0]
    return tp
