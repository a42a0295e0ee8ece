"""Order statistics (statrs definitions) and the settings parser (Cardinal's INI format)."""

from __future__ import annotations

import math

import pytest

from cegah.procurement.engine.settings import (
    Settings,
    SettingsError,
    parse_pipe_separated,
    parse_settings,
)
from cegah.procurement.engine.stats import (
    fence,
    lower_quartile,
    percentile,
    quantile,
    round4,
    upper_quartile,
)


def test_quartiles_use_the_median_unbiased_estimator() -> None:
    # Hand-computed with h = (n + 1/3) tau + 1/3 (Hyndman & Fan type 8), as statrs does.
    data = [1.0, 1.0, 1.0, 1.0, 2.0]
    assert lower_quartile(data) == 1.0
    assert upper_quartile(data) == pytest.approx(1.0 + 1.0 / 3.0)
    nine = [0.0, 0.0] + [100.0] * 7  # Cardinal's R024 fixture
    assert lower_quartile(nine) == pytest.approx(66.66666666666667)
    assert upper_quartile(nine) == 100.0


def test_quantile_edges() -> None:
    assert math.isnan(quantile([], 0.5))
    assert math.isnan(quantile([1.0], 1.5))
    assert quantile([3.0], 0.25) == 3.0  # h < 1: the minimum
    assert quantile([1.0, 2.0, 3.0], 1.0) == 3.0
    assert quantile([1.0, 2.0, 3.0], 0.0) == 1.0
    assert percentile([1.0] * 9 + [10.0], 75) == 1.0


def test_round4_rounds_halves_away_from_zero_like_rust() -> None:
    assert round4(0.03125) == 0.0313  # 312.5 -> 313; Python's round() would give 312
    assert round4(-0.03125) == -0.0313
    assert round4(16.666666666666668) == 16.6667
    assert round4(math.nan) is None
    assert round4(math.inf) is None


def test_fence_is_fused_like_mul_add() -> None:
    # Separately rounded, (0.0939 - 0) * 1.5 + 0.0939 is 0.23475000000000001.
    assert (0.0939 * 1.5 + 0.0939) != 0.23475
    assert fence(0.0, 0.0939, 1.5, 0.0939) == 0.23475
    assert math.isnan(fence(math.nan, 1.0, 1.5, 1.0))


def test_pipe_separated_values() -> None:
    assert parse_pipe_separated(None) == frozenset()
    assert parse_pipe_separated("") == frozenset()
    assert parse_pipe_separated("open|selective|") == {"open", "selective"}
    assert parse_pipe_separated("a||b") == {"a", "", "b"}


def test_sections_enable_indicators_and_keys_are_case_sensitive() -> None:
    settings = parse_settings(
        """
currency = IDR
no_price_comparison_procurement_methods = E-Purchasing
[defaults]
currency = USD
[codelists.bid_status]
qualified = valid
[exclusions]
procurement_method_details = Swakelola|Dikecualikan
[R003]
procurement_methods = open
[R003.procurement_method_details]
Tender Cepat = 3
[R024]
threshold = 0.05
[R038]
"""
    )
    assert settings.enabled == {"R003", "R024", "R038"}
    assert settings.currency == "IDR"
    assert settings.no_price_comparison_procurement_methods == {"E-Purchasing"}
    assert settings.exclude_procurement_method_details == {"Swakelola", "Dikecualikan"}
    assert settings.r003.procurement_method_details == {"Tender Cepat": 3}
    assert settings.r003.procurement_methods == {"open"}
    assert settings.r003.threshold == 15
    assert settings.r024.threshold == 0.05
    assert settings.r038.threshold is None
    assert settings.r018.procurement_methods == {"open", "selective"}


def test_nested_table_alone_enables_its_indicator() -> None:
    assert parse_settings("[R003.procurement_method_details]\nx = 5\n").enabled == {"R003"}


def test_r035_threshold_is_at_least_one() -> None:
    assert parse_settings("[R035]\nthreshold = 0\n").r035.threshold == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[R003]\nthresold = 10\n", "unknown key"),
        ("[R999]\n", "unknown section"),
        ("[R003]\nthreshold = ten\n", "not a valid int"),
        ("[R038]\nminimum_submitted_bids = -1\n", "at least"),
        ("[R030]\ncompare = fuzzy\n", "choose one of"),
        ("currency = IDR\ncolour = red\n", "unknown key"),
        ("[R003\n", "invalid settings file"),
    ],
)
def test_invalid_settings_are_refused(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings(text)


def test_all_cardinal() -> None:
    assert len(Settings.all_cardinal().enabled) == 11
    assert Settings().enabled == frozenset()
