"""Errors raised by the scoring engine, each carrying an Indonesian and an English message."""

from dataclasses import dataclass


class ScoringError(Exception):
    """Base class: bad questionnaire, bad responses or bad configuration."""


@dataclass(frozen=True, slots=True)
class FormIssue:
    """One problem in an XLSForm, located by sheet, spreadsheet row (1-based) and column."""

    sheet: str
    row: int | None
    column: str | None
    message_id: str
    message_en: str

    def location(self) -> str:
        """Return e.g. ``survey!F7 (dimension)``, or as much of it as is known."""
        where = self.sheet
        if self.row is not None:
            where += f", baris/row {self.row}"
        if self.column:
            where += f", kolom/column {self.column}"
        return where

    def __str__(self) -> str:
        return f"[{self.location()}] {self.message_id} / {self.message_en}"


class QuestionnaireError(ScoringError):
    """An XLSForm failed to load or validate; ``issues`` lists every problem found."""

    def __init__(self, path: str, issues: list[FormIssue]) -> None:
        self.path = path
        self.issues = issues
        lines = [f"{path}: {len(issues)} masalah / problem(s)"]
        lines += [f"  {issue}" for issue in issues]
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class ResponseIssue:
    """One problem in the responses CSV: file line (1-based, header is line 1) and column."""

    line: int
    column: str | None
    message_id: str
    message_en: str

    def __str__(self) -> str:
        col = f", kolom/column '{self.column}'" if self.column else ""
        return f"[baris/line {self.line}{col}] {self.message_id} / {self.message_en}"


class ResponsesError(ScoringError):
    """The responses table is unusable; ``issues`` lists the first problems found."""

    def __init__(self, source: str, issues: list[ResponseIssue], total: int | None = None) -> None:
        self.source = source
        self.issues = issues
        self.total = total if total is not None else len(issues)
        lines = [f"{source}: {self.total} masalah / problem(s)"]
        lines += [f"  {issue}" for issue in issues]
        if self.total > len(issues):
            lines.append(f"  … {self.total - len(issues)} lagi / more")
        super().__init__("\n".join(lines))


class ConfigError(ScoringError):
    """Edition, weights, thresholds or recommendation data are invalid."""
