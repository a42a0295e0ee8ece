"""Read and validate a responses table: one row per response, one column per question name.

Required columns: ``institution`` and ``group`` (internal/external/expert). A scored answer
must be blank, non-numeric (both are left out of the index, per the issue's §7), or an
integer 1..k of its item's scale; any other number is an error.
"""

import csv
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from cegah.survey.scoring.constants import GROUPS
from cegah.survey.scoring.errors import ResponseIssue, ResponsesError
from cegah.survey.scoring.questionnaire import Questionnaire

INSTITUTION = "institution"
GROUP = "group"
STRATUM = "stratum"
ROW = "__row"
MAX_REPORTED = 20

LineOf = Callable[[int], int]


def _default_line_of(index: int) -> int:
    # Header is line 1; valid while no field spans several lines (see csv_line_mapper).
    return index + 2


def csv_line_mapper(path: Path) -> LineOf:
    """Return a function mapping a 0-based record index to the line where that record starts.

    Quoted fields may contain newlines, so counting records is not counting lines. The file is
    scanned on the first call only, i.e. only on the error path.
    """
    starts: list[int] = []

    def scan() -> None:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            line = reader.line_num + 1
            for _ in reader:
                starts.append(line)
                line = reader.line_num + 1

    def line_of(index: int) -> int:
        if not starts:
            scan()
        return starts[index] if 0 <= index < len(starts) else index + 2

    return line_of


def read_responses_csv(
    path: str | Path, questionnaires: Mapping[str, Questionnaire] | None = None
) -> pl.DataFrame:
    """Read a responses CSV; every column is text unless ``questionnaires`` are given.

    With ``questionnaires``, only ``institution``, ``group``, ``stratum`` and the scored columns
    are kept, and answers are parsed to numbers (Float64, null if blank or non-numeric) while
    streaming, so the text of 600k×40 answers is never held in memory at once.
    Raises ResponsesError if the file cannot be read.
    """
    path = Path(path)
    try:
        lf = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
        names = lf.collect_schema().names()
        # A UTF-8 BOM written by spreadsheet programs would otherwise stick to the first header.
        if names and names[0].startswith("\ufeff"):
            lf = lf.rename({names[0]: names[0].lstrip("\ufeff")})
            names[0] = names[0].lstrip("\ufeff")
        if questionnaires is None:
            return lf.collect()
        scored = scored_columns(questionnaires)
        return lf.select(
            *(pl.col(c) for c in names if c in (INSTITUTION, GROUP, STRATUM)),
            *(numeric_answer(c, pl.String).alias(c) for c in names if c in scored),
        ).collect(engine="streaming")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ResponsesError(
            str(path),
            [
                ResponseIssue(
                    1, None, f"Berkas tidak dapat dibaca: {exc}", f"Cannot read file: {exc}"
                )
            ],
        ) from exc


def _show(raw: object) -> str:
    """Print an answer as written: 7.0 read as a number is shown as 7."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def numeric_answer(column: str, dtype: pl.DataType | type[pl.DataType]) -> pl.Expr:
    """Return an expression parsing answers to Float64; blank/non-numeric/NaN become null."""
    expr = pl.col(column)
    if dtype == pl.String:
        expr = expr.str.strip_chars().cast(pl.Float64, strict=False)
    else:
        expr = expr.cast(pl.Float64, strict=False)
    return pl.when(expr.is_finite()).then(expr).otherwise(None)


def _issue_rows(df: pl.DataFrame, mask: pl.Expr, limit: int) -> tuple[int, list[int]]:
    """Return how many rows match ``mask`` and the indexes of the first ``limit`` of them."""
    flagged = df.lazy().with_row_index("__row").filter(mask).select("__row").collect()["__row"]
    return flagged.len(), flagged.head(limit).to_list()


class _Issues:
    """Collects the first MAX_REPORTED issues and counts all of them."""

    def __init__(self) -> None:
        self.issues: list[ResponseIssue] = []
        self.total = 0

    def add(self, line: int, column: str | None, msg_id: str, msg_en: str) -> None:
        self.total += 1
        if len(self.issues) < MAX_REPORTED:
            self.issues.append(ResponseIssue(line, column, msg_id, msg_en))

    def raise_if_any(self, source: str) -> None:
        if self.issues:
            self.issues.sort(key=lambda i: (i.line, i.column or ""))
            raise ResponsesError(source, self.issues, self.total)


def scored_columns(questionnaires: Mapping[str, Questionnaire]) -> dict[str, int]:
    """Return every scored column name → the largest k any group uses for it."""
    out: dict[str, int] = {}
    for q in questionnaires.values():
        for item in q.scored_items:
            out[item.name] = max(item.k, out.get(item.name, 0))
    return out


def parse_responses(
    df: pl.DataFrame,
    questionnaires: Mapping[str, Questionnaire],
    *,
    source: str = "responses",
    line_of: LineOf | None = None,
) -> pl.DataFrame:
    """Validate the table and return it compacted for scoring.

    The result has ``__row`` (index into ``df``), trimmed ``institution``, ``group`` (an Enum of
    the three groups), ``stratum`` (text, "" if absent) and one Float32 column per scored
    question, null where the answer is blank or non-numeric. Parsing each column once keeps
    600k×40 answers at ~100 MB instead of re-parsing text in every step.

    Raises ResponsesError naming line (via ``line_of``, default index + 2) and column.
    """
    line_of = line_of or _default_line_of
    found = _Issues()
    for column in (INSTITUTION, GROUP):
        if column not in df.columns:
            found.add(
                1,
                column,
                f"Kolom wajib '{column}' tidak ada.",
                f"Required column '{column}' is missing.",
            )
    found.raise_if_any(source)

    inst = pl.col(INSTITUTION).cast(pl.String).str.strip_chars()
    groups = pl.col(GROUP).cast(pl.String).str.strip_chars()
    count, rows = _issue_rows(df, inst.fill_null("") == "", MAX_REPORTED)
    for row in rows:
        found.add(line_of(row), INSTITUTION, "Institusi kosong.", "Institution is blank.")
    found.total += count - len(rows)
    count, rows = _issue_rows(df, ~groups.fill_null("").is_in(list(GROUPS)), MAX_REPORTED)
    found.total += count - len(rows)
    for row in rows:
        value = df[GROUP][row]
        found.add(
            line_of(row),
            GROUP,
            f"Kelompok '{value}' tidak dikenal; gunakan {'/'.join(GROUPS)}.",
            f"Unknown group '{value}'; use {'/'.join(GROUPS)}.",
        )
    present = set(df.select(groups.unique()).to_series().to_list()) & set(GROUPS)
    for group in sorted(present - set(questionnaires), key=GROUPS.index):
        row = _issue_rows(df, groups == group, 1)[1][0]
        found.add(
            line_of(row),
            GROUP,
            f"Tidak ada kuesioner untuk kelompok '{group}'.",
            f"No questionnaire was given for group '{group}'.",
        )
    used = {g: questionnaires[g] for g in GROUPS if g in present and g in questionnaires}
    for group, q in used.items():
        for item in q.scored_items:
            if item.name not in df.columns:
                found.add(
                    1,
                    item.name,
                    f"Kolom pertanyaan berskor '{item.name}' (kelompok {group}) tidak ada.",
                    f"Column of scored question '{item.name}' (group {group}) is missing.",
                )
    found.raise_if_any(source)

    columns = scored_columns(used)
    parsed = df.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW),
        inst.alias(INSTITUTION),
        groups.cast(pl.Enum(GROUPS)).alias(GROUP),
        (
            pl.col(STRATUM).cast(pl.String).str.strip_chars().fill_null("")
            if STRATUM in df.columns
            else pl.lit("")
        ).alias(STRATUM),
        *(numeric_answer(name, df.schema[name]).alias(name) for name in columns),
    )
    checks: dict[tuple[str, str], pl.Expr] = {}
    for group, q in used.items():
        for item in q.scored_items:
            v = pl.col(item.name)
            off_scale = (v.floor() != v) | (v < 1) | (v > item.k)
            checks[(group, item.name)] = (pl.col(GROUP) == group) & v.is_not_null() & off_scale
    # One pass counts every check; rows are fetched only for the checks that failed.
    counts = (
        parsed.select(e.sum().alias(f"c{i}") for i, e in enumerate(checks.values())).row(0)
        if checks
        else ()
    )
    for ((group, name), expr), count in zip(checks.items(), counts, strict=True):
        if not count:
            continue
        k = next(it.k for it in used[group].scored_items if it.name == name)
        _, rows = _issue_rows(parsed.drop(ROW), expr, MAX_REPORTED)
        found.total += count - len(rows)
        for row in rows:
            raw = df[name][row]
            found.add(
                line_of(row),
                name,
                f"Jawaban '{_show(raw)}' di luar skala 1..{k}.",
                f"Answer '{_show(raw)}' is outside the scale 1..{k}.",
            )
    found.raise_if_any(source)
    # Values are now whole numbers 1..k, exact in Float32.
    return parsed.with_columns(pl.col(name).cast(pl.Float32) for name in columns)


def validate_responses(
    df: pl.DataFrame,
    questionnaires: Mapping[str, Questionnaire],
    *,
    source: str = "responses",
    line_of: LineOf | None = None,
) -> None:
    """Check the table against the questionnaires; returns None, raises ResponsesError."""
    parse_responses(df, questionnaires, source=source, line_of=line_of)
