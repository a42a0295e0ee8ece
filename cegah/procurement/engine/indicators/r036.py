"""R036 Lowest bid disqualified.

Flags a contracting process (with price comparison and at least one active award) whose lowest
submitted bid in the comparison currency is disqualified while some valid bid has an amount. On
equal amounts the first bid counts, as in Cardinal. Output: 1.0.
"""

from __future__ import annotations

from ..core import SUBMITTED, Run

CODE = "R036"

# The bids compared (before the currency filter).
CANDIDATES = f"""
    SELECT rid, idx, amount, currency, status FROM bid
    WHERE price_ok AND any_active AND {SUBMITTED} AND amount IS NOT NULL AND currency IS NOT NULL
"""


def run(run: Run) -> None:
    """Flag disqualified lowest bids."""
    run.flag_process(
        CODE,
        f"""
        SELECT rid, 1.0 FROM ({CANDIDATES})
        -- only a process with a disqualified bid can be flagged
        WHERE currency = $currency
          AND rid IN (SELECT rid FROM bid WHERE status = 'disqualified')
        GROUP BY rid
        HAVING bool_or(status = 'valid')
           AND arg_min(status, {{'amount': amount, 'idx': idx}}) = 'disqualified'
        """,
        {"currency": run.currency},
    )
