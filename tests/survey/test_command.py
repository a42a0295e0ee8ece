"""`cegah survey score` reaches the scoring engine through the operator command."""

import subprocess
import sys
from pathlib import Path

from cegah.survey.scoring import load_questionnaire
from cegah.survey.scoring.questionnaire import default_questionnaire_path

ROOT = Path(__file__).resolve().parents[2]


def test_cegah_survey_score_prints_the_index(tmp_path: Path) -> None:
    items = load_questionnaire(default_questionnaire_path("internal"), "internal").scored_items
    worst = [(str(it.k) if it.reverse else "1") for it in items]
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(
        "institution,group,"
        + ",".join(it.name for it in items)
        + "\nX,internal,"
        + ",".join(worst)
        + "\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cegah.cli",
            "survey",
            "score",
            "--responses",
            str(csv_path),
            "--edition",
            "2024",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "X,internal,1,0.00\nX,ALL,1,0.00,rentan\n"


def test_cegah_survey_without_subcommand_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cegah.cli", "survey"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2 and "score" in result.stderr
