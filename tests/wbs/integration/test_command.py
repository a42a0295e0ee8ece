"""`cegah wbs duplicates`: the evaluation command runs the production pipeline."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import ManagementUtility

from cegah.wbs.integration.models import Candidate
from tests.conftest import Personas
from tests.wbs.integration.conftest import INCIDENT, INCIDENT_RETOLD, UNRELATED

REPORTS = [
    {"id": "r1", "agency": "Inspektorat A", "channel": "web", "text": INCIDENT},
    {"id": "r2", "agency": "KPK", "channel": "whatsapp", "text": INCIDENT_RETOLD},
    {"id": "r3", "agency": "Inspektorat A", "channel": "web", "text": UNRELATED},
]


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["cegah", *argv]).execute()
    return int(exit_info.value.code or 0)


def test_duplicates_command_writes_the_pairs(tmp_path: Path, db: None) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in REPORTS) + "\n")
    out = tmp_path / "pairs.csv"
    assert _run(["wbs", "duplicates", str(source), "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [(r["id_a"], r["id_b"]) for r in rows] == [("r1", "r2")]
    assert float(rows[0]["score"]) >= 0.46


def test_command_and_intake_find_the_same_pairs(
    tmp_path: Path, wbs: Personas, submit_matched
) -> None:
    """The command and the database path share normalisation, key, blocking and threshold."""
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in REPORTS) + "\n")
    out = tmp_path / "pairs.csv"
    assert _run(["wbs", "duplicates", str(source), "--output", str(out)]) == 0
    from_command = {
        (r["id_a"], r["id_b"]): float(r["score"])
        for r in csv.DictReader(out.read_text().splitlines())
    }
    ids = {}
    for r in REPORTS:
        org = wbs.org if r["agency"] != "KPK" else wbs.other_org
        ids[submit_matched(org=org, description=r["text"]).report.pk] = r["id"]
    from_intake = {}
    for c in Candidate.objects.select_related("a", "b"):
        key = tuple(sorted((ids[c.a.report_id], ids[c.b.report_id])))
        from_intake[key] = round(c.score, 4)
    assert from_intake == from_command


def test_bad_input_line_fails_cleanly(tmp_path: Path, db: None) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "x"}\n')
    assert _run(["wbs", "duplicates", str(source), "--output", str(tmp_path / "o.csv")]) == 2


def test_usage_without_subcommand(db: None) -> None:
    assert _run(["wbs"]) == 2


def test_cegah_entry_point_runs_the_command(tmp_path: Path) -> None:
    """The installed `cegah` script reaches the same command (a separate process)."""
    cegah = Path(sys.executable).with_name("cegah")
    if not cegah.exists():
        pytest.skip("cegah entry point not installed")
    result = subprocess.run(
        [str(cegah), "wbs", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert "duplicates" in result.stderr
