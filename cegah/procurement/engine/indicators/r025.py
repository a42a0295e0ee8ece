"""R025 Excessive unsuccessful bids.

For each tenderer: in how many contracting processes it submitted a valid bid (each process
counted once), and in how many of those it won. Only processes with all awards final and exactly
one active award to one supplier count. Flags a tenderer that bid at least as often as the
``percentile`` (default 75th) of all tenderers and whose win ratio is ``<= threshold`` or, without
one, ``<= q1 - 1.5 IQR`` of all win ratios. Output: the win ratio.
"""

from __future__ import annotations

from ..core import Run
from ..stats import fence, lower_quartile, percentile, upper_quartile

CODE = "R025"


def run(run: Run) -> None:
    """Flag tenderers that keep losing."""
    options = run.settings.r025
    run.execute(
        """
        CREATE TABLE r025 AS
        WITH c AS (
            SELECT DISTINCT rid, tids[1] AS tid, won FROM bid
            WHERE all_final AND has_supplier
              AND status = 'valid' AND len(tids) = 1 AND tids[1] IS NOT NULL
        )
        SELECT tid, sum(CASE WHEN won THEN 1 ELSE 0 END) AS wins, count(*) AS bids,
               min(rid) AS rid
        FROM c GROUP BY tid
        """
    )
    high = percentile(run.sorted_values("SELECT bids FROM r025"), options.percentile)
    if options.threshold is None:
        ratios = run.sorted_values("SELECT wins / bids FROM r025")
        q1, q3 = lower_quartile(ratios), upper_quartile(ratios)
        run.set_meta(CODE, "q1", q1)
        run.set_meta(CODE, "q3", q3)
        low = fence(q1, q3, -1.5, q1)
    else:
        low, q1 = options.threshold, 1.0
    run.set_meta(CODE, "upper_fence", high)
    run.set_meta(CODE, "lower_fence", low)
    if q1 > 0 and low > 0:
        run.flag(
            """
            SELECT 'Tenderer', tid, 'R025', wins / bids, rid FROM r025
            WHERE bids >= $high AND wins / bids <= $low
            """,
            {"high": high, "low": low},
        )
