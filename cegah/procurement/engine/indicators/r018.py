"""R018 Single bid received.

Flags a contracting process with ``procurementMethod`` in ``procurement_methods`` (default
``open|selective``) that received exactly one bid. Output: 1.0.

Difference from Cardinal (setting ``count``): Cardinal trusts ``tender/numberOfTenderers``, which
publishers fill inconsistently (registrants, invitees or bidders). By default we count the distinct
tenderers of submitted bids (``bids/details`` not invited or withdrawn) when the release has any,
and fall back to ``numberOfTenderers`` only when it has none. ``count = cardinal`` restores
Cardinal's behaviour.
"""

from __future__ import annotations

from ..core import SUBMITTED, Run

CODE = "R018"


def run(run: Run) -> None:
    """Flag single-bid processes."""
    options = run.settings.r018
    methods = sorted(options.procurement_methods)
    if options.count == "cardinal":
        sql = """SELECT rowid, 1.0 FROM proc
            WHERE (len($methods) = 0 OR list_contains($methods, pm)) AND ntend = '1'"""
    else:
        # One distinct bidder <=> min(id) = max(id): far cheaper than count(DISTINCT id).
        sql = f"""SELECT p.rowid, 1.0 FROM proc AS p LEFT JOIN (
                SELECT rid, min(id) = max(id) AS single FROM bid_tenderer
                WHERE {SUBMITTED} AND id IS NOT NULL GROUP BY rid
            ) AS n ON n.rid = p.rowid
            WHERE (len($methods) = 0 OR list_contains($methods, p.pm))
              AND CASE WHEN n.single IS NOT NULL THEN n.single ELSE p.ntend = '1' END"""
    run.flag_process(CODE, sql, {"methods": methods})
