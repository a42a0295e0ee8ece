"""Formatting for the procurement pages: rupiah, percentages, zone badges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def rupiah(value: float | None) -> str:
    """Format an amount as "Rp 1.234.567" (grouped in the active language), "—" if unknown."""
    if value is None:
        return "—"
    return f"Rp {floatformat(value, '0g')}"


@register.filter
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


def half_up(value: float, digits: int = 0) -> Decimal:
    """Return ``value`` rounded to ``digits`` decimals, halves away from zero, as the pages
    show numbers (Python's ``round`` sends halves to the even neighbour: 12.5 → 12)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


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


@register.filter
def pct(value: float | None, digits: int = 0) -> str:
    """Format a share (0–1) as a percentage, "—" if unknown (see ``format_percent``)."""
    if value is None:
        return "—"
    return format_percent(value, int(digits))


@register.filter
def flag_title(code: str, level: str = "tender") -> str:
    """Return the title of a flag code in the active language ("ID07" → "Konsentrasi
    penyedia"); ``level`` "buyer" for satker-level flags. An unknown code is returned as is."""
    from cegah.procurement.scoring import BUYER_INDICATORS, TENDER_INDICATORS

    indicator = (BUYER_INDICATORS if level == "buyer" else TENDER_INDICATORS).get(code)
    return str(indicator.title) if indicator else code


@register.filter
def in_language(text: str | None) -> str:
    """Return the half of an engine message written "Indonesian / English" (import issues,
    refused files) in the active language: the engine and the command line keep both, the
    page shows the reader's. Any other text is returned as it is."""
    if not text:
        return ""
    parts = str(text).split(" / ")
    if len(parts) != 2:
        return str(text)
    return parts[1] if (get_language() or "").startswith("en") else parts[0]
