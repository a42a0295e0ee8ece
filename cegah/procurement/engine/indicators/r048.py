"""R048 Heterogeneous supplier.

For each supplier of active awards with a single supplier: the number of distinct item
classification prefixes (first ``digits`` characters, default 2) across its awards' items.
Suppliers seen in fewer than ``minimum_contracting_processes`` (default 20) contracting processes
are left out. Flags a count ``>= threshold`` or, without one, ``>= q3 + 1.5 IQR`` of all counts.
Output: the count.
"""

from __future__ import annotations

from ..core import Run
from .fences import upper_fence

CODE = "R048"


def run(run: Run) -> None:
    """Flag suppliers of unusually many kinds of items."""
    options = run.settings.r048
    run.execute(
        """
        CREATE TABLE r048 AS
        WITH c AS (
            SELECT rid, sid, left(cid, $digits) AS code FROM (
                SELECT rid, suppliers[1] AS sid, unnest(items) AS cid FROM award
                WHERE status = 'active' AND len(suppliers) = 1 AND suppliers[1] IS NOT NULL
            ) WHERE cid IS NOT NULL
        )
        SELECT sid, count(DISTINCT code)::DOUBLE AS codes, min(rid) AS rid FROM c
        GROUP BY sid HAVING count(DISTINCT rid) >= $minimum
        """,
        {"digits": options.digits, "minimum": options.minimum_contracting_processes},
    )
    values = run.sorted_values("SELECT codes FROM r048")
    threshold = None if options.threshold is None else float(options.threshold)
    high = upper_fence(run, CODE, values, threshold)
    run.flag(
        "SELECT 'Tenderer', sid, 'R048', codes, rid FROM r048 WHERE codes >= $high",
        {"high": high},
    )
