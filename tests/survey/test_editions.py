"""Category thresholds per edition, and the edition/weights configuration."""

import csv
from pathlib import Path

import pytest

from cegah.survey.scoring import category_for, load_edition
from cegah.survey.scoring.editions import THRESHOLDS_CSV, load_bands
from cegah.survey.scoring.errors import ConfigError

PUBLISHED = Path("/work/shared/data/spi/spi_scores_compiled.csv")
SHARED_THRESHOLDS = Path("/work/shared/data/spi/spi_category_thresholds.csv")


@pytest.mark.parametrize(
    ("year", "score", "category"),
    [
        # 4-class scheme (≤ 2023): bands are [min, next min).
        (2023, 0.0, "sangat rentan"),
        (2023, 67.9, "sangat rentan"),
        (2023, 67.95, "sangat rentan"),  # between the published 67.9 and 68.0
        (2023, 67.99, "sangat rentan"),
        (2023, 68.0, "rentan"),
        (2023, 73.6, "rentan"),
        (2023, 73.65, "rentan"),  # not rounded up to 73.7
        (2023, 73.69, "rentan"),
        (2023, 73.7, "waspada"),
        (2023, 77.49, "waspada"),
        (2023, 77.5, "terjaga"),
        (2021, 100.0, "terjaga"),
        # 3-class scheme (≥ 2024): rentan < 73, waspada 73–77.9, terjaga ≥ 78.
        (2024, 72.99, "rentan"),
        (2024, 73.0, "waspada"),
        (2024, 77.97, "waspada"),  # Bali 2024, reported waspada: no rounding to 78.0
        (2024, 78.0, "terjaga"),
        (2025, 71.70, "rentan"),
    ],
)
def test_category_boundaries(year, score, category):
    assert load_edition(year).category(score) == category


def test_float_noise_on_a_bound_counts_as_the_bound():
    bands = load_bands("3-class")
    assert category_for(72.99999999999999, bands) == "waspada"
    with pytest.raises(ValueError):
        category_for(100.5, bands)
    with pytest.raises(ValueError):
        category_for(float("nan"), bands)


def test_thresholds_copy_is_verbatim():
    if not SHARED_THRESHOLDS.exists():
        pytest.skip("shared thresholds not available")
    assert THRESHOLDS_CSV.read_bytes() == SHARED_THRESHOLDS.read_bytes()


def test_every_published_category_is_reproduced():
    """Every published score with a reported category maps to that category."""
    if not PUBLISHED.exists():
        pytest.skip(f"{PUBLISHED} not available")
    with PUBLISHED.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["category_as_reported"].strip()]
    assert len(rows) >= 60  # guards against silently testing nothing
    mismatches = [
        (r["survey_year"], r["institution"], r["score"], r["category_as_reported"], got)
        for r in rows
        if (got := load_edition(int(r["survey_year"])).category(float(r["score"])))
        != r["category_as_reported"].strip()
    ]
    assert mismatches == []


def test_default_weights_and_schemes():
    e23 = load_edition(2023)
    assert e23.scheme == "4-class"
    assert [b.category for b in e23.bands] == ["sangat rentan", "rentan", "waspada", "terjaga"]
    e24 = load_edition(2024)
    assert e24.scheme == "3-class"
    assert e24.group_weights == {"internal": 0.45, "external": 0.35, "expert": 0.20}
    assert e24.dimension_weights == {} and e24.corrections == {}


def test_weights_yaml_overrides(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(
        "group_weights: {internal: 0.5, external: 0.5}\n"
        "dimension_weights: {internal: {sdm: 2, pbj: 1}}\n"
        "corrections: {'Kabupaten X': 2.5}\n"
        "editions:\n  2025: {corrections: {'Kabupaten X': 4}}\n",
        encoding="utf-8",
    )
    e24 = load_edition(2024, path)
    assert e24.group_weights == {"internal": 0.5, "external": 0.5}
    assert e24.dimension_weights == {"internal": {"sdm": 2.0, "pbj": 1.0}}
    assert e24.corrections == {"Kabupaten X": 2.5}
    assert load_edition(2025, path).corrections == {"Kabupaten X": 4.0}


@pytest.mark.parametrize(
    "text",
    [
        "edition: 2023\n",
        "group_weights: {pegawai: 1}\n",
        "group_weights: {internal: -1}\n",
        "group_weights: {internal: 0}\n",
        "group_weights: {internal: 'banyak'}\n",
        "dimension_weights: {internal: {korupsi: 1}}\n",
        "corrections: {X: 'dua'}\n",
        "category_scheme: 5-class\n",
        "- not a mapping\n",
    ],
)
def test_bad_weights_are_rejected(tmp_path, text):
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_edition(2024, path)
