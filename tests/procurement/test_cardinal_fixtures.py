"""Cardinal's own indicator fixtures (MIT), run as golden tests.

Each ``<CODE>[-<setting>-<value>...].jsonl`` has an ``.expected`` output (without Meta). As in
Cardinal's build script, the name encodes the indicator's settings, ``+`` stands for ``|``, and
every case also has ``no_price_comparison_procurement_methods = NPC`` and
``[exclusions] procurement_method_details = EXC``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import DATA, needs_data

FIXTURES = DATA / "cardinal_fixtures" / "indicators"
CASES = sorted(FIXTURES.glob("*.jsonl")) if FIXTURES.exists() else []

pytestmark = needs_data(FIXTURES)


def settings_for(stem: str) -> str:
    """Return the INI text Cardinal's build.rs derives from a fixture name."""
    code, *parts = stem.replace("+", "|").split("-")
    lines = [
        "no_price_comparison_procurement_methods = NPC",
        "[exclusions]",
        "procurement_method_details = EXC",
    ]
    if len(parts) == 2:
        lines += [f"[{code}]", f"{parts[0]} = {parts[1]}"]
    elif len(parts) > 2:
        field, *pairs = parts
        lines += [f"[{code}]", f"[{code}.{field}]"]
        lines += [f"{key} = {value}" for key, value in zip(pairs[::2], pairs[1::2], strict=True)]
    else:
        lines.append(f"[{code}]")
    return "\n".join(lines) + "\n"


def test_fixture_naming() -> None:
    assert settings_for("R003-procurement_method_details-x-5-y-10").endswith(
        "[R003]\n[R003.procurement_method_details]\nx = 5\ny = 10\n"
    )
    assert "procurement_methods = open|selective" in settings_for(
        "R003-procurement_methods-open+selective"
    )


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture(path: Path, run_indicators: Callable[..., dict[str, Any]]) -> None:
    expected = json.loads(path.with_suffix(".expected").read_text())
    assert run_indicators(path, settings_for(path.stem)) == expected


def test_all_fixtures_found() -> None:
    # Guard against a silently empty parametrisation.
    assert len(CASES) == 15


# Outputs printed in Cardinal's documentation (docs/cli/indicators/R/*.md, "Demonstration") for
# the inputs in cardinal_fixtures/docs_examples, with `--no-meta`.
DOCS = DATA / "cardinal_fixtures" / "docs_examples"
DOCS_OUTPUT = {
    "003": {"OCID": {"F": {"R003": 1.0}}},
    "018": {"OCID": {"F": {"R018": 1.0}}},
    "024": {"OCID": {"F": {"R024": 1.0}}, "Tenderer": {"W": {"R024": 0.0}, "L": {"R024": 0.0}}},
    "025": {"Tenderer": {"F": {"R025": 0.16666666666666666}}},
    "028": {"OCID": {"F": {"R028": 1.0}}, "Tenderer": {"D": {"R028": 1.0}, "V": {"R028": 1.0}}},
    "030": {"OCID": {"F": {"R030": 1.0}}, "Tenderer": {"W": {"R030": 1.0}}},
    "035": {"OCID": {"F": {"R035": 1.0}}, "Tenderer": {"V": {"R035": 0.0}}},
    "036": {"OCID": {"F": {"R036": 1.0}}},
    "038": {"Buyer": {"B": {"R038": 0.5}}},
    "048": {"Tenderer": {"F": {"R048": 2.0}}},
    "058": {"OCID": {"F": {"R058": 99.0}}, "Tenderer": {"W": {"R058": 0.0}}},
}


@needs_data(DOCS)
@pytest.mark.parametrize("name", sorted(DOCS_OUTPUT))
def test_docs_example(name: str, run_indicators: Callable[..., dict[str, Any]]) -> None:
    ini = DOCS / f"{name}.ini"
    if not ini.exists():
        ini = DOCS / "settings.ini"
    assert run_indicators(DOCS / f"{name}.jsonl", ini.read_text()) == DOCS_OUTPUT[name]
