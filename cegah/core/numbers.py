"""Rounding as the pages show numbers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: float | Decimal, digits: int = 0) -> Decimal:
    """Return ``value`` rounded to ``digits`` decimals, halves away from zero, as Django's
    ``floatformat`` shows it (Python's ``round`` and ``Decimal.quantize`` by default send halves
    to the even neighbour: 12.5 → 12, 12.045 → 12.04). A float is taken as it is written
    (``repr``), so 0.125 is a half."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
