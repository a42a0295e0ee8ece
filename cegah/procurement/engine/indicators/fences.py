"""Quartile fences shared by the indicators that flag outliers."""

from __future__ import annotations

from ..core import Run
from ..stats import fence, lower_quartile, upper_quartile


def lower_fence(
    run: Run, code: str, values: list[float], threshold: float | None
) -> tuple[float, float]:
    """Return (lower fence, q1): ``threshold`` or ``q1 - 1.5 IQR``; record Meta.

    With a fixed threshold, q1 is a dummy 1.0, as in Cardinal, so that the caller's
    ``q1 > 0`` guard passes.
    """
    if threshold is None:
        q1, q3 = lower_quartile(values), upper_quartile(values)
        run.set_meta(code, "q1", q1)
        run.set_meta(code, "q3", q3)
        low = fence(q1, q3, -1.5, q1)
    else:
        low, q1 = threshold, 1.0
    run.set_meta(code, "lower_fence", low)
    return low, q1


def upper_fence(
    run: Run, code: str, values: list[float], threshold: float | None, prefix: str = ""
) -> float:
    """Return ``threshold`` or ``q3 + 1.5 IQR``; record Meta (keys prefixed with ``prefix``)."""
    if threshold is None:
        q1, q3 = lower_quartile(values), upper_quartile(values)
        run.set_meta(code, f"{prefix}q1", q1)
        run.set_meta(code, f"{prefix}q3", q3)
        high = fence(q1, q3, 1.5, q3)
    else:
        high = threshold
    run.set_meta(code, f"{prefix}upper_fence", high)
    return high
