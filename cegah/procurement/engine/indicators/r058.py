"""R058 Heavily discounted bid.

Flags a contracting process whose winning bid is far below the lowest losing bid:
``ratio >= threshold`` or, without a threshold, ``>= q3 + 1.5 IQR`` of all ratios (see
``bidratio``). Output: the ratio; the winner gets 0.0.
"""

from __future__ import annotations

from ..core import Run
from .fences import upper_fence

CODE = "R058"


def run(run: Run) -> None:
    """Flag outlying gaps between the winner and the runner-up."""
    values = run.sorted_values("SELECT ratio FROM slbr")
    high = upper_fence(run, CODE, values, run.settings.r058.threshold)
    if not high > 0:
        return
    run.execute("CREATE TABLE r058 AS SELECT * FROM slbr WHERE ratio >= $high", {"high": high})
    run.flag_process(CODE, "SELECT rid, ratio FROM r058")
    run.flag("SELECT 'Tenderer', winner, 'R058', 0.0, rid FROM r058")
    run.add_map("SELECT 'ocid_tenderer_r058', rid, winner FROM r058")
