"""R038 Excessive disqualified bids.

The share of submitted bids that were disqualified, per buyer, per procuring entity and per
tenderer (a bid counts once for each of its tenderers). An organisation needs at least
``minimum_contracting_processes`` (buyers, procuring entities) or ``minimum_submitted_bids``
(tenderers) submitted bids, default 2 – Cardinal compares both minimums with the number of bids,
despite the first one's name, and so do we. Flags shares ``>= threshold`` or, without one,
``>= q3 + 1.5 IQR`` of the group's shares, if that fence is positive. Output: the share.
"""

from __future__ import annotations

from ..core import SUBMITTED, Run
from .fences import upper_fence

CODE = "R038"


def run(run: Run) -> None:
    """Flag organisations with many disqualified bids."""
    options = run.settings.r038
    run.execute(
        f"""
        CREATE TABLE r038_bid AS
        SELECT rid, status = 'disqualified' AS disq FROM bid WHERE {SUBMITTED}
        """
    )
    run.execute(
        """
        CREATE TABLE r038_process AS
        SELECT b.rid, p.buyer_id, p.pe_id, b.disq, b.bids
        FROM (
            SELECT rid, count(*) FILTER (WHERE disq) AS disq, count(*) AS bids
            FROM r038_bid GROUP BY rid
        ) AS b JOIN proc AS p ON p.rowid = b.rid
        """
    )
    groups = (
        ("Buyer", "buyer_id", options.minimum_contracting_processes),
        ("ProcuringEntity", "pe_id", options.minimum_contracting_processes),
    )
    for group, column, minimum in groups:
        _flag(
            run,
            group,
            f"""SELECT {column} AS id, sum(disq) AS disq, sum(bids) AS bids, min(rid) AS rid
            FROM r038_process WHERE {column} IS NOT NULL GROUP BY {column}""",
            minimum,
        )
    _flag(
        run,
        "Tenderer",
        f"""SELECT id, count(*) FILTER (WHERE status = 'disqualified') AS disq, count(*) AS bids,
               min(rid) AS rid
        FROM bid_tenderer WHERE {SUBMITTED} AND id IS NOT NULL GROUP BY id""",
        options.minimum_submitted_bids,
    )
    run.add_map(
        """SELECT 'ocid_buyer_r038', rid, buyer_id FROM r038_process
        WHERE disq > 0 AND buyer_id IS NOT NULL"""
    )
    run.add_map(
        """SELECT 'ocid_procuringentity_r038', rid, pe_id FROM r038_process
        WHERE disq > 0 AND pe_id IS NOT NULL"""
    )


def _flag(run: Run, group: str, fractions_sql: str, minimum: int) -> None:
    table = f"r038_{group.lower()}"
    run.execute(
        f"""CREATE TABLE {table} AS SELECT id, disq / bids AS ratio, rid
        FROM ({fractions_sql}) WHERE bids >= $minimum""",
        {"minimum": minimum},
    )
    values = run.sorted_values(f"SELECT ratio FROM {table}")
    if not values:
        return
    high = upper_fence(run, CODE, values, run.settings.r038.threshold, prefix=f"{group}_")
    if high > 0:
        run.flag(
            f"SELECT $group, id, 'R038', ratio, rid FROM {table} WHERE ratio >= $high",
            {"group": group, "high": high},
        )
