"""`cegah procurement indicators` reaches the engine through the operator command."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = (
    ROOT.parent / "shared" / "data" / "ocds" / "cardinal_fixtures" / "indicators" / "R003.jsonl"
)


@pytest.mark.skipif(not FIXTURE.exists(), reason="shared data not available")
def test_cegah_procurement_indicators_prints_cardinal_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cegah.cli", "procurement", "indicators", str(FIXTURE), "--no-meta"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert set(output) >= {"OCID"}
    assert all("R003" in flags for flags in output["OCID"].values())


def test_cegah_procurement_unknown_subcommand_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cegah.cli", "procurement", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2


@pytest.mark.skipif(not FIXTURE.exists(), reason="shared data not available")
def test_fast_path_and_django_command_print_the_same() -> None:
    """`cegah procurement indicators` skips Django's start-up; manage.py goes through Django."""
    outputs = []
    for command in (
        [sys.executable, "-m", "cegah.cli", "procurement", "indicators"],
        [sys.executable, "manage.py", "procurement", "indicators"],
    ):
        result = subprocess.run(
            [*command, str(FIXTURE)], capture_output=True, text=True, cwd=ROOT, check=False
        )
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0]["OCID"]
