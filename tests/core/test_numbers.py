"""Rounding as the pages show numbers."""

from decimal import Decimal

import pytest

from cegah.core.numbers import half_up


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (12.5, 0, "13"),  # round() gives 12
        (0.125, 2, "0.13"),  # as written, a half
        (73.125, 2, "73.13"),
        (Decimal("12.045"), 2, "12.05"),  # quantize's default gives 12.04
        (Decimal("-5.05"), 1, "-5.1"),  # away from zero
        (Decimal("74.996"), 2, "75.00"),
        (99.96, 0, "100"),
    ],
)
def test_halves_go_away_from_zero(value, digits, expected) -> None:
    assert half_up(value, digits) == Decimal(expected)
    assert str(half_up(value, digits)) == expected
