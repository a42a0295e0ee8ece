"""Build the default XLSForm questionnaires from ``data/questionnaires/spi_items.yaml``.

Run ``python -m cegah.survey.scoring.forms_build [OUT_DIR]`` after editing the YAML; the
.xlsx files are generated so that reviews happen on the readable YAML.
"""

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

from cegah.survey.scoring.questionnaire import QUESTIONNAIRE_DIR

SOURCE = QUESTIONNAIRE_DIR / "spi_items.yaml"
LANG_ID = "Indonesian (id)"
LANG_EN = "English (en)"
SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{LANG_ID}",
    f"label::{LANG_EN}",
    "required",
    "relevant",
    "dimension",
    "reverse",
)
# Fixed document timestamps keep regenerated files identical when the YAML has not changed.
_FIXED_TIME = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).replace(tzinfo=None)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # YAML reads bare yes/no as booleans
        return "yes" if value else "no"
    return str(value)


def build_workbook(spec: dict[str, Any], scales: dict[str, list[list[Any]]]) -> Workbook:
    """Return the XLSForm workbook for one form spec (see spi_items.yaml)."""
    wb = Workbook()
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    survey = wb.active
    assert survey is not None  # a new Workbook always has one sheet
    survey.title = "survey"
    survey.append(SURVEY_COLUMNS)
    used: list[str] = []
    for row in spec["rows"]:
        kind = row["type"]
        if kind.startswith("select_one "):
            list_name = kind.split(" ", 1)[1]
            if list_name not in used:
                used.append(list_name)
        survey.append(
            [
                kind,
                row.get("name", ""),
                row.get("id", ""),
                row.get("en", ""),
                _cell(row.get("required")),
                row.get("relevant", ""),
                row.get("dimension", ""),
                _cell(row.get("reverse")),
            ]
        )
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", f"label::{LANG_ID}", f"label::{LANG_EN}"])
    for list_name in used:
        for name, label_id, label_en in scales[list_name]:
            choices.append([list_name, str(name), label_id, label_en])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append([spec["title"], spec["form_id"], spec["version"], LANG_ID])
    return wb


def build_all(out_dir: Path = QUESTIONNAIRE_DIR, source: Path = SOURCE) -> list[Path]:
    """Write ``spi_<group>.xlsx`` for every form in ``source``; return the written paths."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group, spec in data["forms"].items():
        path = out_dir / f"spi_{group}.xlsx"
        build_workbook(spec, data["scales"]).save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else QUESTIONNAIRE_DIR
    for written_path in build_all(target):
        sys.stdout.write(f"{written_path}\n")
