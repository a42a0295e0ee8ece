"""The questionnaire at run time: load a stored XLSForm through the engine, split it into pages,
decide which questions are relevant (server-side, so it works without JavaScript) and clean the
answers of one page."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cegah.survey import expressions
from cegah.survey.scoring import Question, Questionnaire, load_questionnaire
from cegah.survey.scoring.errors import FormIssue, QuestionnaireError

PAGE_SIZE = 6  # ungrouped questions per page
SUPPORTED_TYPES = {"select_one", "select_multiple", "text", "integer", "decimal", "note"}


@lru_cache(maxsize=32)
def _load(sha256: str, group: str, content: bytes) -> Questionnaire:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{group}.xlsx"
        path.write_bytes(content)
        return load_questionnaire(path, group)


def parse_upload(content: bytes, group: str, filename: str) -> Questionnaire:
    """Validate an uploaded XLSForm with the engine plus the renderer's own checks.

    Raises QuestionnaireError with every problem by sheet, row and column.
    """
    import hashlib

    questionnaire = _load(hashlib.sha256(content).hexdigest(), group, content)
    issues: list[FormIssue] = []
    for q in questionnaire.questions:
        for expr in (q.relevant, *q.group_relevant):
            try:
                expressions.parse(expr)
            except expressions.ExpressionError as exc:
                issues.append(
                    FormIssue(
                        "survey",
                        q.row,
                        None,
                        f"Ekspresi relevant '{expr}' tidak didukung: {exc}",
                        f"Unsupported relevant expression '{expr}': {exc}",
                    )
                )
        if q.type not in SUPPORTED_TYPES:
            issues.append(
                FormIssue(
                    "survey",
                    q.row,
                    None,
                    f"Jenis pertanyaan '{q.type}' tidak didukung.",
                    f"Question type '{q.type}' is not supported.",
                )
            )
    if issues:
        raise QuestionnaireError(filename, issues)
    return questionnaire


def load_stored(row: Any) -> Questionnaire:
    """Return the engine Questionnaire of a stored ``survey.Questionnaire`` row (cached)."""
    return _load(row.sha256, row.group, bytes(row.xlsx))


@dataclass(frozen=True)
class Page:
    number: int
    key: str
    questions: tuple[Question, ...]


def pages(questionnaire: Questionnaire) -> list[Page]:
    """Split into pages: one per top-level group, ungrouped questions in runs of PAGE_SIZE."""
    out: list[list[Question]] = []
    keys: list[str] = []
    for q in questionnaire.questions:
        parts = q.path.split("/")
        key = parts[0] if len(parts) > 1 else ""
        if out and keys[-1] == key and (key or len(out[-1]) < PAGE_SIZE):
            out[-1].append(q)
        else:
            out.append([q])
            keys.append(key)
    return [Page(i, k, tuple(qs)) for i, (k, qs) in enumerate(zip(keys, out, strict=True))]


def is_relevant(question: Question, answers: Mapping[str, Any]) -> bool:
    """Whether every enclosing group's and the question's own ``relevant`` holds."""
    for expr in (*question.group_relevant, question.relevant):
        try:
            if not expressions.evaluate(expr, answers):
                return False
        except expressions.ExpressionError:
            # Checked at import; a form stored before that check shows the question.
            continue
    return True


def visible(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    return [q for q in page.questions if is_relevant(q, answers)]


def hint(question: Question, lang: str) -> str:
    """Return the question's hint in ``lang``, else the default, Indonesian or English one."""
    for key in (lang, "default", "id", "en"):
        if question.hints.get(key):
            return question.hints[key]
    return ""


def base_type(question: Question) -> str:
    return question.type.split()[0]


def clean_page(
    page: Page, answers: Mapping[str, Any], posted: Mapping[str, list[str]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Return (answers of this page's relevant questions, errors by question name).

    Relevance is decided with the answers of earlier pages and this page's posted ones, so a
    question that depends on another on the same page follows it. A question that becomes
    relevant only now has not been shown yet: the caller shows the page again (see
    ``public_views.respond_page``) rather than accepting it blank.
    """
    merged: dict[str, Any] = dict(answers)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in page.questions:
        kind = base_type(q)
        if kind == "note":
            continue
        raw = posted.get(q.name, [])
        if kind == "select_multiple":
            allowed = {c.name for c in q.choices}
            picked = [v for v in raw if v in allowed]
            value = " ".join(dict.fromkeys(picked))
        else:
            value = (raw[0] if raw else "").strip()[:2000]
        merged[q.name] = value
        if not is_relevant(q, merged):
            merged.pop(q.name, None)
            continue
        if kind == "select_one" and value and value not in {c.name for c in q.choices}:
            errors[q.name] = "choice"
            continue
        if kind == "integer" and value:
            try:
                int(value)
            except ValueError:
                errors[q.name] = "integer"
                continue
        if kind == "decimal" and value:
            try:
                float(value.replace(",", "."))
            except ValueError:
                errors[q.name] = "decimal"
                continue
        if q.required and not value:
            errors[q.name] = "required"
            continue
        values[q.name] = value
    return values, errors


def prune(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, str]:
    """Drop answers to questions that are no longer relevant (an earlier answer changed)."""
    out: dict[str, str] = {}
    for q in questionnaire.questions:
        if q.name in answers and is_relevant(q, out | dict(answers.items())):
            out[q.name] = str(answers[q.name])
    return out
