"""The price gap between the winning bid and the lowest losing bid (used by R024 and R058).

For each contracting process with price comparison, all awards final, exactly one active award to
exactly one supplier: among valid bids by a single tenderer in the comparison currency, the
winner's lowest bid ``w`` and the lowest other bid ``l``. If ``l >= w`` (otherwise the award was
not on price, so the gap means nothing), the ratio is ``(l - w) / w``.

Difference from Cardinal: a winning bid of 0 gives no ratio (Cardinal stores NaN or infinity,
which then poison the quartiles).
"""

from __future__ import annotations

from ..core import Run

# The bids that take part (before the currency filter): valid, priced, by one tenderer, in
# processes with price comparison, all awards final and a single supplier.
CANDIDATES = """
    SELECT rid, idx, amount, currency, tids[1] AS tid, won FROM bid
    WHERE price_ok AND all_final AND has_supplier
      AND status = 'valid' AND amount IS NOT NULL AND currency IS NOT NULL
      AND len(tids) = 1 AND tids[1] IS NOT NULL
"""


def run(run: Run) -> None:
    """Create ``slbr`` (rid, winner, loser, ratio); one row per ocid (its last line wins)."""
    run.execute(
        f"""
        CREATE TABLE slbr AS
        WITH c AS (SELECT * FROM ({CANDIDATES}) WHERE currency = $currency),
        w AS (
            SELECT rid, any_value(tid) AS supplier, min(amount) AS amount FROM c
            WHERE won GROUP BY rid
        ),
        l AS (
            SELECT rid, min(amount) AS amount,
                   -- the first of equally low bids, as Cardinal keeps the first on ties
                   arg_min(tid, {{'amount': amount, 'idx': idx}}) AS tid
            FROM c WHERE NOT won GROUP BY rid
        )
        SELECT w.rid, w.supplier AS winner, l.tid AS loser,
               (l.amount - w.amount) / w.amount AS ratio
        FROM w JOIN l USING (rid)
        WHERE l.amount >= w.amount AND w.amount <> 0
          AND w.rid NOT IN (SELECT rid FROM superseded)
        """,
        {"currency": run.currency},
    )
