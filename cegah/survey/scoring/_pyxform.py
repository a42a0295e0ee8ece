"""The only module that touches pyxform (pinned to 4.5.0) and its internal JSON tree.

pyxform's public contract is "XLSForm in, XForm XML out". We also need its parsed tree
(``workbook_to_json`` output) and the raw sheet rows, which are internal and may change
between releases, so every key and call we rely on is confined here. If pyxform is upgraded,
``tests/survey/test_questionnaire.py`` exercises each mapping below.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYXFORM_VERSION = "4.5.0"

# Keys of the internal JSON tree (pyxform.xls2json.workbook_to_json output).
_K_TYPE = "type"
_K_NAME = "name"
_K_LABEL = "label"
_K_HINT = "hint"
_K_BIND = "bind"
_K_RELEVANT = "relevant"
_K_REQUIRED = "required"
_K_CHILDREN = "children"
_K_CHOICES = "choices"
_K_LIST_NAME = "list_name"
_T_SELECT_ONE = "select one"
# The tree spells select types in prose; expose the XLSForm spelling authors wrote.
_TYPE_NAMES = {"select one": "select_one", "select all that apply": "select_multiple"}
_CONTAINER_TYPES = frozenset({"group", "repeat"})
# pyxform appends a bodyless "meta" group (instanceID); it is not a question.
_META_GROUP = "meta"

_ROW_RE = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET_RE = re.compile(r"On the '(\w+)' sheet")


class FormReadError(Exception):
    """pyxform rejected the form; carries what location could be recovered from its message."""

    def __init__(self, message: str, sheet: str, row: int | None, column: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.sheet = sheet
        self.row = row
        self.column = column


@dataclass(frozen=True, slots=True)
class RawChoice:
    """A choice as pyxform parsed it."""

    name: str
    label: str | dict[str, str]


@dataclass(frozen=True, slots=True)
class RawQuestion:
    """A question node of the parsed tree, flattened, with its spreadsheet row."""

    path: str
    name: str
    type: str
    label: str | dict[str, str]
    hint: str | dict[str, str]
    relevant: str
    group_relevant: tuple[str, ...]
    required: bool
    list_name: str | None
    choices: tuple[RawChoice, ...]
    extra: dict[str, str]
    row: int | None


@dataclass(slots=True)
class ParsedForm:
    """Everything the loader needs from one XLSForm."""

    title: str
    form_id: str
    version: str
    default_language: str
    questions: list[RawQuestion]
    survey_columns: dict[str, str] = field(default_factory=dict)
    choice_rows: dict[tuple[str, str], int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _locate(message: str) -> tuple[str, int | None, str | None]:
    row_match = _ROW_RE.search(message)
    sheet_match = _SHEET_RE.search(message)
    sheet = sheet_match.group(1) if sheet_match else "survey"
    return sheet, int(row_match.group(1)) if row_match else None, None


def _column_letters(path: Path, sheet: str) -> dict[str, str]:
    """Map lower-cased header text to its column letter, so errors can point at a cell.

    pyxform drops blank header cells, so letters cannot be derived from its header list.
    """
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return {}
    # openpyxl and pyxform are imported where used: together they take a quarter of a second,
    # which every Django start (web, worker, each command) would otherwise pay.
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = next((wb[n] for n in wb.sheetnames if n.lower() == sheet), None)
        if ws is None:
            return {}
        header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        return {
            str(v).strip().lower(): get_column_letter(i)
            for i, v in enumerate(header, start=1)
            if v is not None and str(v).strip()
        }
    finally:
        wb.close()


def _survey_rows(definition: Any) -> dict[str, int]:
    # Row i of pyxform's list is spreadsheet row i + 2: it keeps blank rows and skips the header.
    rows: dict[str, int] = {}
    for i, row in enumerate(definition.survey):
        name = row.get(_K_NAME)
        if name and name not in rows:
            rows[name] = i + 2
    return rows


def _choice_rows(definition: Any) -> dict[tuple[str, str], int]:
    rows: dict[tuple[str, str], int] = {}
    for i, row in enumerate(definition.choices or []):
        key = (str(row.get("list_name", "")), str(row.get(_K_NAME, "")))
        rows.setdefault(key, i + 2)
    return rows


def parse_form(path: Path) -> ParsedForm:
    """Parse and structurally validate an XLSForm with pyxform.

    Raises FormReadError with the sheet and row pyxform reported, when it reported one.
    """
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    warnings: list[str] = []
    try:
        definition = get_xlsform(xlsform=str(path))
        tree = workbook_to_json(
            workbook_dict=definition,
            form_name=None,
            fallback_form_name=definition.fallback_form_name,
            default_language=None,
            warnings=warnings,
        )
        # Building the XForm runs pyxform's remaining checks (references in skip logic etc.).
        create_survey_element_from_dict(tree).to_xml(validate=False, warnings=warnings)
    except PyXFormError as exc:
        message = str(exc)
        sheet, row, column = _locate(message)
        # Newer pyxform errors carry structured context; prefer it over parsing the text.
        context = getattr(exc, "context", None) or {}
        sheet = str(context.get("sheet") or sheet)
        row = int(context["row"]) if isinstance(context.get("row"), int) else row
        if isinstance(context.get("column"), str):
            header = context["column"]
            letter = _column_letters(path, sheet).get(header.lower())
            column = f"{letter} ({header})" if letter else header
        raise FormReadError(message, sheet, row, column) from exc
    rows = _survey_rows(definition)
    settings = (definition.settings or [{}])[0]
    return ParsedForm(
        title=str(tree.get("title") or ""),
        form_id=str(tree.get("id_string") or ""),
        version=str(tree.get("version") or settings.get("version") or ""),
        default_language=str(tree.get("default_language") or "default"),
        questions=list(_walk(tree.get(_K_CHILDREN, []), "", (), rows)),
        survey_columns=_column_letters(path, "survey"),
        choice_rows=_choice_rows(definition),
        warnings=warnings,
    )


def _walk(
    nodes: list[dict[str, Any]],
    prefix: str,
    group_relevant: tuple[str, ...],
    rows: dict[str, int],
) -> Iterator[RawQuestion]:
    for node in nodes:
        kind = str(node.get(_K_TYPE, ""))
        name = str(node.get(_K_NAME, ""))
        bind = node.get(_K_BIND) or {}
        relevant = str(bind.get(_K_RELEVANT) or "")
        if kind in _CONTAINER_TYPES:
            if not prefix and name == _META_GROUP and (node.get("control") or {}).get("bodyless"):
                continue
            inherited = (*group_relevant, relevant) if relevant else group_relevant
            yield from _walk(node.get(_K_CHILDREN, []), f"{prefix}{name}/", inherited, rows)
            continue
        known = {
            _K_TYPE, _K_NAME, _K_LABEL, _K_HINT, _K_BIND, _K_CHILDREN, _K_CHOICES,
            _K_LIST_NAME, "itemset", "parameters", "control", "media",
        }  # fmt: skip
        extra = {
            k.lower(): str(v) for k, v in node.items() if k not in known and isinstance(v, str)
        }
        yield RawQuestion(
            path=f"{prefix}{name}",
            name=name,
            type=_TYPE_NAMES.get(kind, kind),
            label=node.get(_K_LABEL, ""),
            hint=node.get(_K_HINT, ""),
            relevant=relevant,
            group_relevant=group_relevant,
            required=str(bind.get(_K_REQUIRED, "")).lower() in {"yes", "true", "true()"},
            list_name=node.get(_K_LIST_NAME),
            choices=tuple(
                RawChoice(str(c.get(_K_NAME, "")), c.get(_K_LABEL, ""))
                for c in node.get(_K_CHOICES) or []
            ),
            extra=extra,
            row=rows.get(name),
        )


def is_select_one(question: RawQuestion) -> bool:
    """Return True for single-choice questions (pyxform spells the type "select one")."""
    return question.type == _TYPE_NAMES[_T_SELECT_ONE]
