"""Order statistics with the same definitions as Cardinal (Rust crate statrs 0.16).

Cardinal's quartiles are not numpy's or DuckDB's ``quantile_cont`` (Hyndman & Fan type 7): statrs
uses the median-unbiased estimator (type 8). Fences built on them decide which organisations are
flagged, so we reproduce it exactly rather than approximately.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction


def quantile(ordered: Sequence[float], tau: float) -> float:
    """Return the tau-quantile of ``ordered`` (ascending) like statrs ``Data::quantile``.

    Returns NaN for empty data or tau outside [0, 1], as statrs does.
    """
    n = len(ordered)
    if not 0.0 <= tau <= 1.0 or n == 0:
        return math.nan
    h = (n + 1.0 / 3.0) * tau + 1.0 / 3.0
    hf = int(h)  # truncation, like Rust's `as i64`
    if hf <= 0 or tau == 0.0:
        return ordered[0]
    if hf >= n or math.isclose(tau, 1.0, rel_tol=0.0, abs_tol=4 * math.ulp(1.0)):
        return ordered[-1]
    a = ordered[hf - 1]
    b = ordered[hf]
    return a + (h - hf) * (b - a)


def lower_quartile(ordered: Sequence[float]) -> float:
    """Return the first quartile (statrs ``lower_quartile``)."""
    return quantile(ordered, 0.25)


def upper_quartile(ordered: Sequence[float]) -> float:
    """Return the third quartile (statrs ``upper_quartile``)."""
    return quantile(ordered, 0.75)


def percentile(ordered: Sequence[float], p: int) -> float:
    """Return the p-th percentile (statrs ``percentile``: ``quantile(p / 100)``)."""
    return quantile(ordered, p / 100.0)


def round4(value: float) -> float | None:
    """Round to 4 decimals like Cardinal's Meta output; NaN and infinities become None (null).

    Rust's ``f64::round`` rounds halves away from zero; Python's ``round`` rounds them to even.
    """
    if not math.isfinite(value):
        return None
    scaled = value * 10_000.0
    whole = math.trunc(scaled)
    if abs(scaled - whole) >= 0.5:
        whole += 1 if scaled > 0 else -1
    return whole / 10_000.0


def fence(q1: float, q3: float, factor: float, base: float) -> float:
    """Return ``(q3 - q1) * factor + base`` rounded once, like Rust's fused ``mul_add``.

    Cardinal computes ``q1 - 1.5 IQR`` and ``q3 + 1.5 IQR`` with ``mul_add``; a separately rounded
    product can differ in the last bit and flip a ``ratio <= fence`` test at the boundary.
    NaN and infinities propagate.
    """
    iqr = q3 - q1
    if not (math.isfinite(iqr) and math.isfinite(base)):
        return iqr * factor + base
    return float(Fraction(iqr) * Fraction(factor) + Fraction(base))
