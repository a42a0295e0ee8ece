"""Loading and validating XLSForm questionnaires (pyxform 4.5.0 tree mapping included)."""

from pathlib import Path

import pytest

from cegah.survey.scoring import (
    QuestionnaireError,
    ScoredItem,
    default_questionnaire_path,
    load_questionnaire,
)
from cegah.survey.scoring.constants import DIMENSIONS, GROUPS
from cegah.survey.scoring.errors import ConfigError
from cegah.survey.scoring.forms_build import build_all


def _only_issue(excinfo: pytest.ExceptionInfo[QuestionnaireError]):
    assert len(excinfo.value.issues) == 1, excinfo.value.issues
    return excinfo.value.issues[0]


def test_scored_items_dimension_reverse_and_scale(make_form):
    q = load_questionnaire(
        make_form(
            [
                ("select_one s4", "a1", "A1", "", "transparansi", "no"),
                ("select_one s5", "a2", "A2", "", "PBJ", "yes"),
                ("select_one yn", "x", "X", "", "", ""),
                ("text", "t", "T", "", "", ""),
            ]
        ),
        "internal",
    )
    assert q.scored_items == (
        ScoredItem("a1", "transparansi", False, 4),
        ScoredItem("a2", "pbj", True, 5),
    )
    assert q.dimensions == ("transparansi", "pbj")
    assert [x.name for x in q.questions] == ["a1", "a2", "x", "t"]


def test_unknown_dimension_names_row_and_column(make_form):
    path = make_form(
        [("text", "t", "T", "", "", ""), ("select_one s4", "a1", "A1", "", "korupsi", "")]
    )
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    issue = _only_issue(excinfo)
    # Row 3: header is row 1, the text question row 2. "dimension" is the 5th column (E).
    assert (issue.sheet, issue.row, issue.column) == ("survey", 3, "E (dimension)")
    assert "korupsi" in issue.message_en and "dimensi" in issue.message_id
    assert "survey" in str(excinfo.value) and "row 3" in str(excinfo.value)


def test_non_numeric_choice_points_at_choices_sheet(make_form):
    path = make_form(
        [("select_one yn", "a1", "A1", "", "sdm", "no")],
        choices={"yn": ["ya", "tidak"]},
    )
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    issue = _only_issue(excinfo)
    assert (issue.sheet, issue.row, issue.column) == ("choices", 2, "name")
    assert "ya" in issue.message_en


def test_scale_must_be_exactly_one_to_k(make_form):
    path = make_form(
        [("select_one gap", "a1", "A1", "", "sdm", "")], choices={"gap": ["1", "2", "4"]}
    )
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    assert "1..k" in _only_issue(excinfo).message_en


def test_scored_item_must_be_select_one(make_form):
    path = make_form([("integer", "a1", "A1", "", "anggaran", "")])
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    issue = _only_issue(excinfo)
    assert (issue.row, issue.column) == (2, "A (type)")
    assert "select_one" in issue.message_en


def test_bad_reverse_and_reverse_without_dimension_are_both_reported(make_form):
    path = make_form(
        [
            ("select_one s4", "a1", "A1", "", "sdm", "kadang"),
            ("select_one s4", "a2", "A2", "", "", "yes"),
        ]
    )
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    issues = excinfo.value.issues
    assert [(i.row, i.column) for i in issues] == [(2, "F (reverse)"), (3, "F (reverse)")]


def test_form_without_scored_items_is_rejected(make_form):
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(make_form([("text", "t", "T", "", "", "")]), "internal")
    assert "No scored question" in _only_issue(excinfo).message_en


def test_pyxform_structural_error_keeps_its_row(make_form):
    path = make_form([("select_one s4", "a1", "A1", "${nope} = 1", "sdm", "")])
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    issue = _only_issue(excinfo)
    assert (issue.sheet, issue.row, issue.column) == ("survey", 2, "D (relevant)")
    assert "nope" in issue.message_en
    assert issue.message_id.startswith("XLSForm tidak valid")


def test_pyxform_error_without_context_keeps_row_from_message(make_form):
    path = make_form([("select_one nolist", "a1", "A1", "", "sdm", "")])
    with pytest.raises(QuestionnaireError) as excinfo:
        load_questionnaire(path, "internal")
    issue = _only_issue(excinfo)
    assert (issue.sheet, issue.row) == ("survey", 2)
    assert "nolist" in issue.message_en


def test_missing_file_and_unknown_group(tmp_path, make_form):
    with pytest.raises(QuestionnaireError, match="File not found"):
        load_questionnaire(tmp_path / "absent.xlsx", "internal")
    with pytest.raises(ConfigError):
        load_questionnaire(make_form([("select_one s4", "a", "A", "", "sdm", "")]), "pegawai")


def test_skip_logic_labels_and_types_kept_for_renderer():
    q = load_questionnaire(default_questionnaire_path("internal"), "internal")
    pbj1 = q.question("pbj1")
    assert pbj1.type == "select_one"
    assert pbj1.group_relevant == ("${terlibat_pbj} = 'ya'",)
    assert pbj1.path == "g_pbj/pbj1"
    assert pbj1.label("id").startswith("Seberapa sering pemenang")
    assert pbj1.label("en").startswith("How often is the procurement winner")
    assert [c.name for c in pbj1.choices] == ["1", "2", "3", "4"]
    assert pbj1.choices[0].label("id") == "Tidak pernah"
    assert q.question("masa_kerja").required
    expert = load_questionnaire(default_questionnaire_path("expert"), "expert")
    assert expert.question("x_pbj1").relevant == "${x_kenal_pbj} = 'ya'"


@pytest.mark.parametrize("group", GROUPS)
def test_shipped_questionnaires_load(group):
    q = load_questionnaire(default_questionnaire_path(group), group)
    assert q.form_id == f"spi_{group}"
    assert any(item.reverse for item in q.scored_items)
    assert any(not item.reverse for item in q.scored_items)
    if group == "internal":
        assert q.dimensions == DIMENSIONS


def test_shipped_xlsx_match_their_yaml_source(tmp_path: Path):
    """Someone editing spi_items.yaml must regenerate the .xlsx files (forms_build)."""
    for path in build_all(tmp_path):
        group = path.stem.removeprefix("spi_")
        fresh = load_questionnaire(path, group)
        shipped = load_questionnaire(default_questionnaire_path(group), group)
        assert fresh.questions == shipped.questions
        assert fresh.scored_items == shipped.scored_items
        assert (fresh.title, fresh.version) == (shipped.title, shipped.version)
