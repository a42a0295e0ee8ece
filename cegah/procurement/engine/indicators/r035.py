"""R035 All except winning bid disqualified.

Flags a contracting process (all awards final) in which exactly one tenderer has valid bids, that
tenderer is the only supplier of the active awards, and at least ``threshold`` (default 1) other
tenderers have disqualified bids. Output: the number of other disqualified tenderers; the winner
gets 0.0.
"""

from __future__ import annotations

from ..core import Run

CODE = "R035"


def run(run: Run) -> None:
    """Flag processes where every rival was disqualified."""
    run.execute(
        """
        CREATE TABLE r035 AS
        WITH dq AS (SELECT DISTINCT rid FROM bid WHERE status = 'disqualified'),
        t AS (
            SELECT rid, status, id FROM bid_tenderer SEMI JOIN dq USING (rid)
            WHERE status IN ('valid', 'disqualified') AND id IS NOT NULL
        ),
        -- "exactly one distinct id" is min(id) = max(id), cheaper than count(DISTINCT id)
        v AS (
            SELECT rid, min(id) AS id FROM t WHERE status = 'valid'
            GROUP BY rid HAVING min(id) = max(id)
        ),
        s AS (
            SELECT rid, min(id) AS id
            FROM award_supplier SEMI JOIN dq USING (rid)
            WHERE status = 'active' AND id IS NOT NULL GROUP BY rid HAVING min(id) = max(id)
        ),
        d AS (
            SELECT t.rid, count(DISTINCT t.id) AS n FROM t JOIN v USING (rid)
            WHERE t.status = 'disqualified' AND t.id <> v.id GROUP BY t.rid
        )
        SELECT v.rid, v.id AS tid, d.n
        FROM v JOIN s USING (rid) JOIN d USING (rid) JOIN proc AS p ON p.rowid = v.rid
        WHERE p.all_final AND s.id = v.id AND d.n >= $threshold
        """,
        {"threshold": run.settings.r035.threshold},
    )
    run.flag_process(CODE, "SELECT rid, n FROM r035")
    run.flag("SELECT 'Tenderer', tid, 'R035', 0.0, rid FROM r035")
    run.add_map("SELECT 'ocid_tenderer_r035', rid, tid FROM r035")
