"""Our output against Cardinal 0.0.8's on the data folders (outputs stored beside the data).

On these files the two fixes (R018 counts bids, R030 compares instants) change nothing: the
synthetic and Bandung data give numberOfTenderers equal to the number of bidders and write every
timestamp in one format and zone. So the whole output, Meta and Maps included, must be equal, with
and without the fixes. ``test_engine.py`` shows inputs where the fixes do differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import DATA, needs_data

SYNTH = DATA / "synthetic"
BANDUNG = DATA / "spse_kab_bandung_2025"
REAL = DATA / "real_examples"
COMPAT = "\n[R018]\ncount = cardinal\n[R030]\ncompare = text\n"

pytestmark = needs_data(DATA)


def normalised(output: dict[str, Any]) -> dict[str, Any]:
    """Sort the Maps' tenderer lists, which Cardinal prints in hash order."""
    maps = output.get("Maps")
    if maps:
        output["Maps"] = {
            name: {k: sorted(v) if isinstance(v, list) else v for k, v in entries.items()}
            for name, entries in maps.items()
        }
    return output


def settings_text(name: str, *, compat: bool) -> str:
    text = (SYNTH / name).read_text()
    if compat:
        # Replace the empty [R018] and [R030] sections with ones restoring Cardinal's behaviour.
        text = text.replace("[R018]\n", "").replace("[R030]\n", "") + COMPAT
    return text


@pytest.mark.parametrize("compat", [False, True], ids=["fixed", "cardinal"])
@pytest.mark.parametrize(
    ("data", "ini", "expected", "map"),
    [
        (
            SYNTH / "synth_spse_2k.jsonl",
            "cardinal_settings_default.ini",
            SYNTH / "synth_spse_2k.cardinal_results.json",
            True,
        ),
        (
            BANDUNG / "ocds_compiled_releases.jsonl",
            "cardinal_settings_default.ini",
            BANDUNG / "cardinal_results_default_settings.json",
            False,
        ),
        (
            BANDUNG / "ocds_compiled_releases.jsonl",
            "cardinal_settings_id.ini",
            BANDUNG / "cardinal_results_id_settings.json",
            False,
        ),
    ],
    ids=["synth-2k-map", "bandung-default", "bandung-id"],
)
def test_same_output_as_cardinal(
    data: Path,
    ini: str,
    expected: Path,
    map: bool,
    compat: bool,
    run_indicators: Callable[..., dict[str, Any]],
) -> None:
    ours = run_indicators(data, settings_text(ini, compat=compat), meta=True, map=map)
    assert normalised(ours) == normalised(json.loads(expected.read_text()))


def test_real_examples(tmp_path: Path, run_indicators: Callable[..., dict[str, Any]]) -> None:
    # Cardinal ran on the concatenation of the publishers' files.
    joined = tmp_path / "all.jsonl"
    joined.write_text("".join(p.read_text() for p in sorted(REAL.glob("*.jsonl"))))
    ours = run_indicators(
        joined, settings_text("cardinal_settings_default.ini", compat=False), meta=True
    )
    assert ours == json.loads((REAL / "cardinal_results_all.json").read_text())
