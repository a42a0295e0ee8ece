"""Fixtures for the SPI scoring tests: tiny XLSForms written with openpyxl into tmp_path."""

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook

SURVEY_HEADER = ("type", "name", "label", "relevant", "dimension", "reverse")
SCALES = {
    "s2": ["1", "2"],
    "s3": ["1", "2", "3"],
    "s4": ["1", "2", "3", "4"],
    "s5": ["1", "2", "3", "4", "5"],
    "yn": ["ya", "tidak"],
}

FormMaker = Callable[..., Path]


def write_form(
    path: Path,
    rows: Sequence[Sequence[str]],
    header: Sequence[str] = SURVEY_HEADER,
    choices: dict[str, list[str]] | None = None,
) -> Path:
    """Write an XLSForm with a survey sheet of ``rows`` and a choices sheet of scales."""
    wb = Workbook()
    survey = wb.active
    assert survey is not None
    survey.title = "survey"
    survey.append(list(header))
    for row in rows:
        survey.append(list(row))
    sheet = wb.create_sheet("choices")
    sheet.append(["list_name", "name", "label"])
    for list_name, names in (choices or SCALES).items():
        for name in names:
            sheet.append([list_name, name, f"{list_name}-{name}"])
    wb.save(path)
    return path


@pytest.fixture
def make_form(tmp_path: Path) -> FormMaker:
    counter = iter(range(1000))

    def make(rows: Sequence[Sequence[str]], **kwargs: object) -> Path:
        return write_form(tmp_path / f"form{next(counter)}.xlsx", rows, **kwargs)  # type: ignore[arg-type]

    return make


# The two questionnaires of the hand-computed example used across test modules.
INTERNAL_ROWS = [
    ("select_one s4", "a1", "A1", "", "transparansi", "no"),
    ("select_one s4", "a2", "A2", "", "transparansi", "yes"),
    ("select_one s5", "b1", "B1", "", "sdm", ""),
    ("text", "note", "Catatan", "", "", ""),
]
EXTERNAL_ROWS = [
    ("select_one s4", "e1", "E1", "", "transparansi", "no"),
    ("select_one s2", "e2", "E2", "", "integritas", "no"),
]

# Hand-computed example (see test_index.py for the arithmetic).
RESPONSES_CSV = """institution,group,a1,a2,b1,note,e1,e2
X,internal,4,1,5,ok,,
X,internal,1,4,3,,,
X,internal,,tidak tahu,2,,,
X,external,,,,,3,2
X,external,,,,,4,1
Y,internal,4,4,1,,,
Y,internal,4,,1,,,
Y,internal,4,,1,,,
"""


@pytest.fixture
def example_forms(make_form: FormMaker) -> dict[str, Path]:
    """Paths of the internal and external questionnaires of the hand-computed example."""
    return {"internal": make_form(INTERNAL_ROWS), "external": make_form(EXTERNAL_ROWS)}


@pytest.fixture
def example_csv(tmp_path: Path) -> Path:
    """Path of the responses CSV of the hand-computed example."""
    path = tmp_path / "responses.csv"
    path.write_text(RESPONSES_CSV, encoding="utf-8")
    return path


# Fixtures of the web app tests (coordinator, edition, locus; fake WhatsApp).
from tests.survey.web import graph, world  # noqa: E402, F401
