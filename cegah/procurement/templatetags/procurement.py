"""Formatting for the procurement pages: rupiah, percentages, zone badges."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat

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


@register.filter
def pct(value: float | None, digits: int = 0) -> str:
    """Format a share (0–1) as a percentage, "—" if unknown."""
    if value is None:
        return "—"
    return f"{floatformat(value * 100, digits)}%"


@register.filter
def flag_title(code: str, level: str = "tender") -> str:
    """Return the title of a flag code in the active language ("ID07" → "Konsentrasi
    penyedia"); ``level`` "buyer" for satker-level flags. An unknown code is returned as is."""
    from cegah.procurement.scoring import BUYER_INDICATORS, TENDER_INDICATORS

    indicator = (BUYER_INDICATORS if level == "buyer" else TENDER_INDICATORS).get(code)
    return str(indicator.title) if indicator else code
