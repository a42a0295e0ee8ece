"""R028 Identical bid prices.

Flags a contracting process (with price comparison) in which submitted bids by different
tenderers (compared as sets of tenderer ids) have the same amount and currency. Output: 1.0 for
the process and for each tenderer involved.

A tenderer may submit several bids at one price: bids with the same set of tenderers never match
each other. Where a price has two or more distinct tenderer sets, every tenderer at that price is
flagged (Cardinal's pairwise pass over the bids gives the same set).
"""

from __future__ import annotations

from ..core import SUBMITTED, Run

CODE = "R028"


def run(run: Run) -> None:
    """Flag identical prices from different tenderers."""
    run.execute(
        f"""
        CREATE TABLE r028 AS
        WITH priced AS (
            SELECT rid, amount, currency, tids FROM bid
            WHERE price_ok AND {SUBMITTED} AND tids IS NOT NULL
              AND amount IS NOT NULL AND currency IS NOT NULL
        ),
        -- Most prices are unique within a process: only repeated ones need tenderer sets.
        repeated AS (
            SELECT rid, amount, currency FROM priced
            GROUP BY rid, amount, currency HAVING count(*) > 1
        ),
        b AS (
            SELECT rid, amount, currency, list_sort(list_distinct(tids)) AS ids
            FROM priced SEMI JOIN repeated USING (rid, amount, currency)
        ),
        same AS (
            SELECT rid, amount, currency FROM b WHERE len(ids) > 0
            GROUP BY rid, amount, currency HAVING count(DISTINCT ids) > 1
        )
        SELECT DISTINCT rid, tid FROM (
            SELECT b.rid, unnest(b.ids) AS tid FROM b JOIN same USING (rid, amount, currency)
        )
        """
    )
    run.flag_process(CODE, "SELECT DISTINCT rid, 1.0 FROM r028")
    run.flag("SELECT 'Tenderer', tid, 'R028', 1.0, rid FROM r028")
    run.add_map("SELECT 'ocid_tenderer_r028', rid, tid FROM r028")
