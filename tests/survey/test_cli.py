"""The batch scoring command `cegah survey score`, called through cli.main(argv)."""

import io
from pathlib import Path

import pytest

from cegah.survey.scoring.cli import main
from cegah.survey.scoring.questionnaire import default_questionnaire_path


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


EXPECTED = """X,internal,3,54.17
X,external,2,66.67
X,ALL,5,59.64,rentan
Y,internal,3,25.00
Y,ALL,3,25.00,rentan
"""


def test_scores_per_group_then_all(example_forms, example_csv):
    code, out, err = run(
        [
            "--questionnaire",
            f"internal={example_forms['internal']}",
            "--questionnaire",
            f"external={example_forms['external']}",
            "--responses",
            str(example_csv),
            "--edition",
            "2024",
        ]
    )
    assert (code, err) == (0, "")
    assert out == EXPECTED


def test_weights_file_and_4_class_edition(example_forms, example_csv, tmp_path):
    weights = tmp_path / "w.yaml"
    weights.write_text("corrections: {X: 10}\n", encoding="utf-8")
    code, out, _ = run(
        [
            "--questionnaire", f"internal={example_forms['internal']}",
            "--questionnaire", f"external={example_forms['external']}",
            "--responses", str(example_csv), "--edition", "2023", "--weights", str(weights),
        ]
    )  # fmt: skip
    assert code == 0
    # 59.635… − 10 = 49.635… → 49.64, "sangat rentan" in the 4-class scheme.
    assert "X,ALL,5,49.64,sangat rentan\n" in out


def test_bare_path_applies_to_every_group(make_form, tmp_path):
    form = make_form([("select_one s3", "a", "A", "", "sdm", "")])
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(
        "institution,group,a\nI,internal,3\nI,expert,1\nI,external,2\n", encoding="utf-8"
    )
    code, out, _ = run(
        ["--questionnaire", str(form), "--responses", str(csv_path), "--edition", "2024"]
    )
    assert code == 0
    # internal 100, external 50, expert 0: 0.45×100 + 0.35×50 + 0.2×0 = 62.5.
    assert out == (
        "I,internal,1,100.00\nI,external,1,50.00\nI,expert,1,0.00\nI,ALL,3,62.50,rentan\n"
    )


def test_group_specific_path_overrides_bare(make_form, tmp_path):
    bare = make_form([("select_one s3", "a", "A", "", "sdm", "")])
    reversed_form = make_form([("select_one s3", "a", "A", "", "sdm", "yes")])
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("institution,group,a\nI,internal,3\nI,external,3\n", encoding="utf-8")
    code, out, _ = run(
        [
            "--questionnaire", str(bare), "--questionnaire", f"external={reversed_form}",
            "--responses", str(csv_path), "--edition", "2024",
        ]
    )  # fmt: skip
    assert code == 0
    assert "I,internal,1,100.00\n" in out and "I,external,1,0.00\n" in out


def test_default_questionnaires_when_none_given(tmp_path):
    from cegah.survey.scoring import load_questionnaire

    items = load_questionnaire(default_questionnaire_path("internal"), "internal").scored_items
    # The best answer everywhere: the top of the scale, or 1 ("never") on reverse items → 100.
    best = [("1" if it.reverse else str(it.k)) for it in items]
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(
        "institution,group," + ",".join(it.name for it in items) + "\n"
        "I,internal," + ",".join(best) + "\n",
        encoding="utf-8",
    )
    code, out, err = run(["--responses", str(csv_path), "--edition", "2024"])
    assert (code, err) == (0, "")
    assert out == "I,internal,1,100.00\nI,ALL,1,100.00,terjaga\n"
    csv_path.write_text("institution,group,tr1\nI,internal,4\n", encoding="utf-8")
    code, _, err = run(["--responses", str(csv_path), "--edition", "2024"])
    assert code == 2 and "ang1" in err  # every scored column of the form must exist


def test_frame_option(make_form, tmp_path):
    form = make_form([("select_one s3", "a", "A", "", "sdm", "")])
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("institution,group,stratum,a\nI,internal,s1,3\n", encoding="utf-8")
    frame = tmp_path / "pop.csv"
    frame.write_text("institution,group,stratum,population\nI,internal,s1,0\n", encoding="utf-8")
    argv = ["--questionnaire", str(form), "--responses", str(csv_path), "--edition", "2024"]
    code, _, err = run([*argv, "--frame", str(frame)])
    assert code == 2 and "population" in err and "line 2" in err
    frame.write_text("institution,group,stratum,population\nI,internal,s1,12\n", encoding="utf-8")
    assert run([*argv, "--frame", str(frame)])[:2] == (
        0,
        "I,internal,1,100.00\nI,ALL,1,100.00,terjaga\n",
    )


def _bad(tmp_path: Path, text: str, form: Path) -> tuple[int, str, str]:
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(text, encoding="utf-8")
    return run(["--questionnaire", str(form), "--responses", str(csv_path), "--edition", "2024"])


def test_no_institution_name_runs_as_a_formula(make_form, tmp_path):
    form = make_form([("select_one s4", "a", "A", "", "sdm", "")])
    text = 'institution,group,a\n"=HYPERLINK(""https://x.invalid"")",internal,2\n'
    code, out, err = _bad(tmp_path, text, form)
    assert (code, err) == (0, "")
    assert out.startswith('"\'=HYPERLINK(""https://x.invalid"")",internal,1,')


def test_out_of_scale_answer_names_line_and_column(make_form, tmp_path):
    form = make_form([("select_one s4", "a", "A", "", "sdm", "")])
    code, out, err = _bad(tmp_path, "institution,group,a\nI,internal,2\nI,internal,7\n", form)
    assert (code, out) == (2, "")
    assert "line 3" in err and "'a'" in err and "1..4" in err


def test_line_numbers_survive_multiline_fields(make_form, tmp_path):
    form = make_form([("select_one s4", "a", "A", "", "sdm", ""), ("text", "t", "T", "", "", "")])
    text = 'institution,group,t,a\nI,internal,"dua\nbaris",2\nI,internal,x,9\n'
    code, _, err = _bad(tmp_path, text, form)
    assert code == 2 and "line 4" in err


def test_unknown_group_and_missing_columns(make_form, tmp_path):
    form = make_form([("select_one s4", "a", "A", "", "sdm", "")])
    code, _, err = _bad(tmp_path, "institution,group,a\nI,pegawai,2\n", form)
    assert code == 2 and "line 2" in err and "pegawai" in err
    code, _, err = _bad(tmp_path, "institusi,group,a\nI,internal,2\n", form)
    assert code == 2 and "'institution'" in err


def test_invalid_questionnaire_exits_2(make_form, tmp_path):
    form = make_form([("select_one s4", "a", "A", "", "korupsi", "")])
    code, _, err = _bad(tmp_path, "institution,group,a\nI,internal,2\n", form)
    assert code == 2 and "korupsi" in err and "row 2" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--edition", "2024"],
        ["--responses", "x.csv", "--edition", "dua ribu"],
        ["--questionnaire", "pegawai=f.xlsx", "--responses", "x.csv", "--edition", "2024"],
        ["--responses", "/nonexistent.csv", "--edition", "2024"],
    ],
)
def test_usage_errors_exit_2(argv):
    code, out, err = run(argv)
    assert code == 2 and out == "" and err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--questionnaire" in capsys.readouterr().out


def test_padded_numbers_count_and_text_answers_are_left_out(make_form, tmp_path):
    form = make_form([("select_one s3", "a", "A", "", "sdm", "")])
    text = 'institution,group,a\nI,internal," 3 "\nI,internal,tidak tahu\nI,internal,1\n'
    code, out, _ = _bad(tmp_path, text, form)
    # " 3 " → 100 and 1 → 0 are kept; "tidak tahu" is left out, so n = 2 and the mean is 50.
    assert (code, out) == (0, "I,internal,2,50.00\nI,ALL,2,50.00,rentan\n")
