"""R024 Price close to winning bid.

Flags a contracting process whose lowest losing bid is within a small ratio of the winning bid:
``ratio <= threshold`` or, without a threshold, ``<= q1 - 1.5 IQR`` of all ratios (see
``bidratio``). Output: the ratio; the winner and the lowest losing tenderer get 0.0.

Nothing is flagged unless q1 and the fence are positive: otherwise a quarter or more of all
processes have a zero gap and flagging them all would mean nothing.
"""

from __future__ import annotations

from ..core import Run
from .fences import lower_fence

CODE = "R024"


def run(run: Run) -> None:
    """Flag near-equal winning and losing prices."""
    values = run.sorted_values("SELECT ratio FROM slbr")
    low, q1 = lower_fence(run, CODE, values, run.settings.r024.threshold)
    if not (q1 > 0 and low > 0):
        return
    run.execute("CREATE TABLE r024 AS SELECT * FROM slbr WHERE ratio <= $low", {"low": low})
    run.flag_process(CODE, "SELECT rid, ratio FROM r024")
    run.flag("SELECT 'Tenderer', unnest([winner, loser]), 'R024', 0.0, rid FROM r024")
    run.add_map("SELECT 'ocid_tenderer_r024', rid, unnest([winner, loser]) FROM r024")
