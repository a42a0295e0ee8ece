"""Load an SPI questionnaire authored as XLSForm and validate its scoring metadata.

Scoring metadata lives in two extra columns of the ``survey`` sheet: ``dimension`` (one of
``constants.DIMENSIONS``; blank = not scored) and ``reverse`` (``yes``/``no``). A scored item
must be a ``select_one`` whose choice names are exactly the numbers 1..k.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from cegah.survey.scoring import _pyxform
from cegah.survey.scoring.constants import DIMENSIONS, GROUPS
from cegah.survey.scoring.errors import ConfigError, FormIssue, QuestionnaireError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
QUESTIONNAIRE_DIR = DATA_DIR / "questionnaires"

_LANG_CODE = re.compile(r"\((\w{2,3})\)\s*$")


def _labels(value: str | dict[str, str]) -> dict[str, str]:
    """Key labels by language code: ``Indonesian (id)`` → ``id``; unnamed → ``default``."""
    if isinstance(value, str):
        return {"default": value} if value else {}
    out: dict[str, str] = {}
    for lang, text in value.items():
        match = _LANG_CODE.search(lang)
        out[match.group(1).lower() if match else lang.lower()] = str(text)
    return out


def _pick(labels: dict[str, str], lang: str) -> str:
    for key in (lang, "default", "id", "en"):
        if key in labels:
            return labels[key]
    return next(iter(labels.values()), "")


@dataclass(frozen=True, slots=True)
class Choice:
    """An answer option; ``labels`` maps a language code (``id``, ``en``, ``default``) to text."""

    name: str
    labels: dict[str, str]

    def label(self, lang: str = "id") -> str:
        """Return the label in ``lang``, falling back to default, Indonesian, English."""
        return _pick(self.labels, lang)


@dataclass(frozen=True, slots=True)
class Question:
    """A question as a renderer needs it: labels, skip logic and choices.

    ``relevant`` is the question's own XLSForm expression; ``group_relevant`` holds those of
    the enclosing groups, outermost first. A question is shown only if all of them hold.
    """

    name: str
    path: str
    type: str
    labels: dict[str, str]
    hints: dict[str, str]
    relevant: str
    group_relevant: tuple[str, ...]
    required: bool
    choices: tuple[Choice, ...]
    dimension: str | None
    reverse: bool
    row: int | None

    def label(self, lang: str = "id") -> str:
        """Return the label in ``lang``, falling back to default, Indonesian, English."""
        return _pick(self.labels, lang)


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """A scored question: answer v on a k-point scale scores (v−1)/(k−1)×100, or 100 − that."""

    name: str
    dimension: str
    reverse: bool
    k: int


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A validated questionnaire for one respondent group."""

    group: str
    path: str
    title: str
    form_id: str
    version: str
    questions: tuple[Question, ...]
    scored_items: tuple[ScoredItem, ...]
    warnings: tuple[str, ...] = ()

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Return the dimensions that have at least one scored item, in canonical order."""
        present = {item.dimension for item in self.scored_items}
        return tuple(d for d in DIMENSIONS if d in present)

    def question(self, name: str) -> Question:
        """Return the question called ``name``; raises KeyError if there is none."""
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)


def default_questionnaire_path(group: str) -> Path:
    """Return the shipped default XLSForm for ``group``; raises ConfigError for an unknown group."""
    if group not in GROUPS:
        raise ConfigError(f"Kelompok tidak dikenal / unknown group: {group!r}")
    return QUESTIONNAIRE_DIR / f"spi_{group}.xlsx"


class _Checker:
    """Collects FormIssues for the scoring metadata of one parsed form."""

    def __init__(self, form: _pyxform.ParsedForm) -> None:
        self.form = form
        self.issues: list[FormIssue] = []

    def col(self, header: str) -> str:
        letter = self.form.survey_columns.get(header)
        return f"{letter} ({header})" if letter else header

    def add(
        self, row: int | None, column: str, msg_id: str, msg_en: str, sheet: str = "survey"
    ) -> None:
        col = self.col(column) if sheet == "survey" else column
        self.issues.append(FormIssue(sheet, row, col, msg_id, msg_en))

    def check(self, raw: _pyxform.RawQuestion) -> tuple[Question, ScoredItem | None]:
        dimension = raw.extra.get("dimension", "").strip().lower() or None
        reverse_text = raw.extra.get("reverse", "").strip().lower()
        q = raw.name
        if reverse_text not in {"", "yes", "no"}:
            self.add(
                raw.row,
                "reverse",
                f"Pertanyaan '{q}': nilai reverse '{reverse_text}' harus 'yes' atau 'no'.",
                f"Question '{q}': reverse value '{reverse_text}' must be 'yes' or 'no'.",
            )
        reverse = reverse_text == "yes"
        if dimension is None:
            if reverse:
                self.add(
                    raw.row,
                    "reverse",
                    f"Pertanyaan '{q}' bertanda reverse tetapi tanpa dimensi.",
                    f"Question '{q}' is marked reverse but has no dimension.",
                )
            return self._question(raw, None, reverse), None
        if dimension not in DIMENSIONS:
            self.add(
                raw.row,
                "dimension",
                f"Pertanyaan '{q}': dimensi '{dimension}' tidak dikenal; pilih salah satu dari "
                f"{', '.join(DIMENSIONS)}.",
                f"Question '{q}': unknown dimension '{dimension}'; use one of "
                f"{', '.join(DIMENSIONS)}.",
            )
            return self._question(raw, None, reverse), None
        if not _pyxform.is_select_one(raw):
            self.add(
                raw.row,
                "type",
                f"Pertanyaan berskor '{q}' harus bertipe select_one (tipe sekarang: {raw.type}).",
                f"Scored question '{q}' must be select_one (its type is {raw.type}).",
            )
            return self._question(raw, dimension, reverse), None
        k = self._scale(raw)
        item = ScoredItem(raw.name, dimension, reverse, k) if k else None
        return self._question(raw, dimension, reverse), item

    def _scale(self, raw: _pyxform.RawQuestion) -> int | None:
        """Return k if the choice names are exactly 1..k (k ≥ 2), else record issues."""
        values: list[int] = []
        for choice in raw.choices:
            row = self.form.choice_rows.get((raw.list_name or "", choice.name))
            if not choice.name.isdigit():
                self.add(
                    row,
                    "name",
                    f"Pilihan '{choice.name}' pada daftar '{raw.list_name}' (pertanyaan "
                    f"berskor '{raw.name}') harus berupa angka 1..k.",
                    f"Choice '{choice.name}' in list '{raw.list_name}' (scored question "
                    f"'{raw.name}') must be a number 1..k.",
                    sheet="choices",
                )
                return None
            values.append(int(choice.name))
        k = len(values)
        if k < 2 or sorted(values) != list(range(1, k + 1)):
            self.add(
                raw.row,
                "type",
                f"Daftar pilihan '{raw.list_name}' untuk pertanyaan berskor '{raw.name}' harus "
                f"tepat 1..k dengan k ≥ 2 (sekarang: {sorted(values)}).",
                f"Choice list '{raw.list_name}' of scored question '{raw.name}' must be exactly "
                f"1..k with k ≥ 2 (found: {sorted(values)}).",
            )
            return None
        return k

    @staticmethod
    def _question(raw: _pyxform.RawQuestion, dimension: str | None, reverse: bool) -> Question:
        return Question(
            name=raw.name,
            path=raw.path,
            type=raw.type,
            labels=_labels(raw.label),
            hints=_labels(raw.hint),
            relevant=raw.relevant,
            group_relevant=raw.group_relevant,
            required=raw.required,
            choices=tuple(Choice(c.name, _labels(c.label)) for c in raw.choices),
            dimension=dimension,
            reverse=reverse,
            row=raw.row,
        )


def load_questionnaire(path: str | Path, group: str) -> Questionnaire:
    """Load, validate and return the XLSForm at ``path`` as the questionnaire for ``group``.

    Raises QuestionnaireError listing every problem by sheet, row and column (pyxform's own
    structural errors, then the scoring metadata), and ConfigError for an unknown group.
    """
    if group not in GROUPS:
        raise ConfigError(f"Kelompok tidak dikenal / unknown group: {group!r}")
    path = Path(path)
    if not path.is_file():
        raise QuestionnaireError(
            str(path),
            [FormIssue("-", None, None, "Berkas tidak ditemukan.", "File not found.")],
        )
    try:
        form = _pyxform.parse_form(path)
    except _pyxform.FormReadError as exc:
        issue = FormIssue(
            exc.sheet,
            exc.row,
            exc.column,
            f"XLSForm tidak valid menurut pyxform: {exc.message}",
            exc.message,
        )
        raise QuestionnaireError(str(path), [issue]) from exc
    checker = _Checker(form)
    questions: list[Question] = []
    items: list[ScoredItem] = []
    for raw in form.questions:
        question, item = checker.check(raw)
        questions.append(question)
        if item is not None:
            items.append(item)
    if not items and not checker.issues:
        checker.issues.append(
            FormIssue(
                "survey",
                None,
                checker.col("dimension"),
                "Tidak ada pertanyaan berskor (kolom dimension kosong semua).",
                "No scored question (the dimension column is empty throughout).",
            )
        )
    if checker.issues:
        raise QuestionnaireError(str(path), checker.issues)
    return Questionnaire(
        group=group,
        path=str(path),
        title=form.title,
        form_id=form.form_id,
        version=form.version,
        questions=tuple(questions),
        scored_items=tuple(items),
        warnings=tuple(form.warnings),
    )
