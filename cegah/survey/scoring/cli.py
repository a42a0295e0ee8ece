"""Batch scoring: ``cegah survey score --questionnaire [GROUP=]FORM.xlsx … --responses R.csv
--edition YEAR [--weights W.yaml] [--frame POP.csv]``.

Output (CSV on stdout): ``institution,group,n,score`` per group, then
``institution,ALL,n,index,category``. Exit codes: 0 ok, 2 bad input or configuration.
"""

import argparse
import csv
import sys
from pathlib import Path
from typing import TextIO

import polars as pl

from cegah.core.spreadsheet import csv_row
from cegah.survey.scoring.constants import GROUPS
from cegah.survey.scoring.editions import load_edition
from cegah.survey.scoring.errors import ScoringError
from cegah.survey.scoring.index import POPULATION, compute_index
from cegah.survey.scoring.questionnaire import (
    Questionnaire,
    default_questionnaire_path,
    load_questionnaire,
)
from cegah.survey.scoring.responses import (
    GROUP,
    INSTITUTION,
    STRATUM,
    csv_line_mapper,
    read_responses_csv,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse would call sys.exit itself; the Django command needs a return code instead.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (also used by the Django command for --help)."""
    parser = _Parser(
        prog="cegah survey score",
        description="Hitung indeks SPI dari berkas jawaban / compute the SPI index from responses.",
    )
    parser.add_argument(
        "--questionnaire",
        action="append",
        default=[],
        metavar="[GROUP=]FORM.xlsx",
        help="XLSForm per group (internal/external/expert); a bare path applies to every group. "
        "Repeatable. Default: the shipped questionnaires.",
    )
    parser.add_argument("--responses", required=True, type=Path, metavar="RESPONSES.csv")
    parser.add_argument("--edition", required=True, type=int, metavar="YEAR")
    parser.add_argument("--weights", type=Path, metavar="W.yaml")
    parser.add_argument(
        "--frame",
        type=Path,
        metavar="POP.csv",
        help="Population counts: institution,group,stratum,population (post-stratified CIs).",
    )
    return parser


def parse_questionnaire_args(values: list[str]) -> dict[str, Path]:
    """Return group → form path; ``GROUP=path`` wins over a bare path for that group.

    Raises _UsageError for an unknown group or a group given twice.
    """
    bare: Path | None = None
    explicit: dict[str, Path] = {}
    for value in values:
        group, sep, path = value.partition("=")
        if sep and group in GROUPS:
            if group in explicit:
                raise _UsageError(f"--questionnaire {group}= diberikan dua kali / given twice")
            explicit[group] = Path(path)
        elif sep and "/" not in group and "\\" not in group:
            raise _UsageError(
                f"kelompok tidak dikenal / unknown group {group!r} in --questionnaire {value}"
            )
        else:
            if bare is not None:
                raise _UsageError("lebih dari satu path tanpa kelompok / more than one bare path")
            bare = Path(value)
    if bare is None and not explicit:
        return {g: default_questionnaire_path(g) for g in GROUPS}
    return {g: explicit.get(g, bare) for g in GROUPS if g in explicit or bare is not None}  # type: ignore[misc]


def load_questionnaires(paths: dict[str, Path]) -> dict[str, Questionnaire]:
    """Load each group's form once per distinct path; raises QuestionnaireError."""
    return {group: load_questionnaire(path, group) for group, path in paths.items()}


def _read_frame(path: Path) -> pl.DataFrame:
    df = read_responses_csv(path)
    missing = [c for c in (INSTITUTION, GROUP, STRATUM, POPULATION) if c not in df.columns]
    if missing:
        raise _UsageError(f"{path}: kolom tidak ada / missing columns: {', '.join(missing)}")
    pop = df[POPULATION].str.strip_chars().cast(pl.Float64, strict=False)
    bad = df.with_row_index("r").filter(pop.is_null() | (pop <= 0))
    if bad.height:
        line = bad["r"][0] + 2
        raise _UsageError(
            f"{path}: baris/line {line}, kolom/column 'population': harus angka > 0 / must be > 0"
        )
    return df.with_columns(pop.alias(POPULATION))


def main(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the batch scorer with ``argv`` (the arguments after ``score``); return the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        forms = parse_questionnaire_args(args.questionnaire)
        questionnaires = load_questionnaires(forms)
        config = load_edition(args.edition, args.weights)
        responses = read_responses_csv(args.responses, questionnaires)
        frame = _read_frame(args.frame) if args.frame else None
        result = compute_index(
            questionnaires,
            responses,
            config,
            frame=frame,
            line_of=csv_line_mapper(args.responses),
            with_ci=False,
        )
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except _UsageError as exc:
        err.write(f"cegah survey score: galat / error: {exc}\n")
        return EXIT_BAD_INPUT
    except ScoringError as exc:
        err.write(f"cegah survey score: {exc}\n")
        return EXIT_BAD_INPUT
    writer = csv.writer(out, lineterminator="\n")
    # Institution names come from the responses file: none may run as a formula.
    writer.writerows(csv_row(row) for row in result.csv_rows())
    return EXIT_OK
