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


# --- `cegah procurement indicators` says what it cannot read -------------------------------------

SYNTH = ROOT.parent / "shared" / "data" / "ocds" / "synthetic" / "synth_spse_2k.jsonl"


def _indicators(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from cegah.procurement.engine.cli import main

    status = main(["indicators", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_indicators_refuse_packages_folders_and_files_without_json_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "releases.json"
    package.write_text(json.dumps({"releases": [{"ocid": "ocds-1", "tender": {}}]}))
    status, out, err = _indicators(str(package), "--indonesian", capsys=capsys)
    assert (status, out) == (1, "")
    assert "a release or record package (.json), not JSON lines" in err
    assert f"cegah procurement import {package} --store S.duckdb" in err
    not_zip = tmp_path / "exports.zip"
    not_zip.write_text("bukan JSON\nsama sekali\n")
    status, out, err = _indicators(str(not_zip), capsys=capsys)
    assert (status, out) == (1, "") and "no line is a JSON object" in err
    lines_of_packages = tmp_path / "packages.jsonl"
    lines_of_packages.write_text(json.dumps({"releases": []}) + "\n")
    status, _out, err = _indicators(str(lines_of_packages), capsys=capsys)
    assert status == 1 and "none of the 1 JSON objects has an ocid" in err
    status, _out, err = _indicators(str(tmp_path), capsys=capsys)
    assert status == 1 and "ini folder" in err and "is a folder" in err
    assert "no such file" not in err
    status, _out, err = _indicators(capsys=capsys)
    assert status == 2 and "give FILE (OCDS JSON lines) or --store S.duckdb" in err
    assert "not both" not in err
    status, _out, err = _indicators(str(not_zip), "--store", "s.duckdb", capsys=capsys)
    assert status == 2 and "not both" in err
    # Releases all cancelled: nothing to flag, and nothing wrong.
    cancelled = tmp_path / "cancelled.jsonl"
    cancelled.write_text(json.dumps({"ocid": "o", "tender": {"status": "cancelled"}}) + "\n")
    status, out, err = _indicators(str(cancelled), "--no-meta", capsys=capsys)
    assert (status, json.loads(out), err) == (0, {}, "")


@pytest.mark.skipif(not SYNTH.exists(), reason="shared data not available")
def test_indicators_stop_quietly_when_the_reader_goes_away() -> None:
    # `cegah procurement indicators FILE | head`: the reader closes the pipe early.
    process = subprocess.Popen(
        [sys.executable, "-m", "cegah.cli", "procurement", "indicators", str(SYNTH), "--map"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err
