"""Money amounts in Indonesian text ("Rp 500rb", "1,5 juta", "Rp1.250.000") and their buckets."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_UNITS = {
    "rb": 1_000,
    "rbu": 1_000,
    "ribu": 1_000,
    "k": 1_000,
    "jt": 1_000_000,
    "jta": 1_000_000,
    "juta": 1_000_000,
    "m": 1_000_000_000,
    "miliar": 1_000_000_000,
    "milyar": 1_000_000_000,
    "t": 1_000_000_000_000,
    "triliun": 1_000_000_000_000,
}
# "m" and "t" also mean metre/ton, so they count as money only after "Rp".
_RP_ONLY = frozenset({"m", "t"})

# Runs on folded text (lower case, thousands separators already removed by ``normalize.fold``).
AMOUNT = re.compile(
    r"(?P<rp>\brp\.?\s*)?(?P<num>\d+(?:[.,]\d{1,2})?)\s*"
    r"(?P<unit>ribu|rbu|rb|k|juta|jta|jt|miliar|milyar|m|triliun|t)?\b(?!\s*%)"
)

# Bucket width on a log10 scale: 0.25 gives ~78 % steps (1 jt, 1.78 jt, 3.16 jt, 5.6 jt, 10 jt …).
BUCKET_WIDTH = 0.25


def parse_match(m: re.Match[str]) -> int | None:
    """Return the amount in rupiah of one ``AMOUNT`` match, or None if it is not money."""
    unit = m.group("unit")
    has_rp = m.group("rp") is not None
    if unit is None and not has_rp:
        return None
    if unit in _RP_ONLY and not has_rp:
        return None
    try:
        value = Decimal(m.group("num").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return None
    value *= _UNITS.get(unit or "", 1)
    # Below Rp 1.000 it is almost always a house number or an RT after "rp" typo, not money.
    return int(value) if value >= 1000 else None


def find_amounts(folded: str) -> list[int]:
    """Return the rupiah amounts mentioned in already folded text, in order."""
    out = []
    for m in AMOUNT.finditer(folded):
        value = parse_match(m)
        if value is not None:
            out.append(value)
    return out


def amount_buckets(amount: int | Decimal) -> tuple[str, str]:
    """Return two bucket labels for ``amount`` on log grids offset by half a bucket.

    Two amounts within ~30 % of each other share at least one label, so equality of keyed hashes
    of the labels approximates "about the same amount" without storing the amount.
    Raises ``ValueError`` for amounts that are not positive.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    x = math.log10(float(amount)) / BUCKET_WIDTH
    return f"a{math.floor(x)}", f"b{math.floor(x + 0.5)}"


def bucket_label(amount: int | Decimal) -> str:
    """Return a human-readable range label of the grid-a bucket (plaintext statistics column)."""
    low = 10 ** (math.floor(math.log10(float(amount)) / BUCKET_WIDTH) * BUCKET_WIDTH)
    high = low * 10**BUCKET_WIDTH
    return f"{_short(low)}-{_short(high)}"


def _short(value: float) -> str:
    for unit, size in (("T", 1e12), ("M", 1e9), ("jt", 1e6), ("rb", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"
