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


# --- `cegah procurement score` and file errors --------------------------------------------------


@pytest.mark.django_db
def test_score_takes_its_indicator_settings_with_indicators(
    procurement_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cegah.cli import main as cegah_main
    from cegah.procurement.engine.store import Store
    from cegah.procurement.management.commands.procurement import score
    from cegah.procurement.models import ScoringRun

    from .conftest import release, write_releases

    with Store(procurement_store) as store:
        store.import_ocds(write_releases(tmp_path / "a.jsonl", [release(1, "ID-SATKER-1")]))
    ini = tmp_path / "only-r003.ini"
    ini.write_text("[R003]\nthreshold = 30\n")
    assert score(["--indicators", str(ini)]) == 0
    assert ScoringRun.objects.get().meta["R003"] == {"threshold": 30}
    # Django takes --settings for its settings module (ModuleNotFoundError): say what to use.
    assert cegah_main(["procurement", "score", "--settings", str(ini)]) == 2
    assert "--indicators FILE.ini" in capsys.readouterr().err
    assert score(["--indicators", str(tmp_path / "nope.ini")]) == 2
    assert "nope.ini: berkas tidak ada / no such file" in capsys.readouterr().err


@pytest.mark.django_db
def test_missing_files_are_named_in_both_languages(
    procurement_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cegah.procurement.engine.cli import main
    from cegah.procurement.management.commands.procurement import score

    assert score(["--policy", str(tmp_path / "policy.ini")]) == 2
    err = capsys.readouterr().err
    assert "policy.ini: berkas tidak ada / no such file" in err and "Errno" not in err
    argv = ["import", str(tmp_path / "nope.jsonl"), "--store", str(procurement_store)]
    assert main([*argv, "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "nope.jsonl: berkas tidak ada / no such file" in err and "Errno" not in err
