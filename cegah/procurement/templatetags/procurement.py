"""Formatting for the procurement pages: rupiah, percentages, zone badges."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from cegah.procurement import formats

register = template.Library()


@register.filter
def rupiah(value: float | None) -> str:
    """Format an amount as "Rp 1.234.567" (grouped in the active language), "—" if unknown."""
    return formats.rupiah(value)


@register.filter
def money(value: float | None, currency: str | None = "") -> str:
    """Format an amount in its currency (see ``formats.money``), "—" if unknown."""
    return formats.money(value, currency)


@register.filter
def pct(value: float | None, digits: int = 0) -> str:
    """Format a share (0–1) as a percentage, "—" if unknown (see ``format_percent``)."""
    if value is None:
        return "—"
    return formats.format_percent(value, int(digits))


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
