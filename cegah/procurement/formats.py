"""Amounts and percentages as the procurement pages, reasons and exports write them."""

from __future__ import annotations

from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.utils.formats import number_format

from cegah.core.numbers import half_up


def rupiah(value: float | None) -> str:
    """Format an amount as "Rp 1.234.567" (grouped in the active language), "—" if unknown."""
    if value is None:
        return "—"
    return f"Rp {floatformat(value, '0g')}"


def money(value: float | None, currency: str | None = "") -> str:
    """Format an amount in its currency: rupiah as "Rp 1.234.567", another currency with its
    ISO code ("UAH 2.910,50"), so that it is never read as rupiah; "—" if unknown. No currency
    given means rupiah."""
    if value is None:
        return "—"
    code = (currency or "").upper()
    if code in ("", "IDR"):
        return rupiah(value)
    return f"{code} {floatformat(value, '-2g')}"


def percent_points(share: float) -> int:
    """Return a share (0–1) as whole percentage points, rounded as ``pct`` shows it."""
    return int(half_up(100 * share))


def format_percent(share: float, digits: int = 0) -> str:
    """Format a share (0–1) as a percentage in the active language ("12,5%"), with ``digits``
    decimals, or more where those would turn a share that is neither nothing nor all into
    "0%" or "100%" (0.9996 is "99,96%", never "100%"); a share too close for that is
    "<0,01%" or ">99,99%"."""
    exact = 100 * float(share)
    for places in range(digits, digits + 3):
        shown = half_up(exact, places)
        if (shown == 0) == (exact == 0) and (shown == 100) == (exact == 100):
            break
    else:
        step = Decimal(1).scaleb(-places)
        if shown == 0:
            return f"<{number_format(step, places, use_l10n=True)}%"
        return f">{number_format(100 - step, places, use_l10n=True)}%"
    return f"{number_format(shown, places, use_l10n=True, force_grouping=True)}%"
