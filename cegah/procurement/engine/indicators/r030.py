"""R030 Late bid won.

Flags a contracting process in which a valid bid dated after the end of the tender period
(``tender/tenderPeriod/endDate``) was submitted by a supplier of an active award. Output: 1.0 for
the process and the tenderer.

Difference from Cardinal (setting ``compare``): Cardinal compares the two timestamps as text,
which is wrong across time zones ("2025-03-01T10:00:00+07:00" is earlier than
"2025-03-01T05:00:00Z" but sorts after it) and across precisions ("...:00Z" sorts after
"...:00.5Z"). We compare instants, and skip timestamps that are not RFC 3339 date-times.
``compare = text`` restores Cardinal's behaviour.
"""

from __future__ import annotations

from ..core import Run

CODE = "R030"


def run(run: Run) -> None:
    """Flag awarded late bids."""
    # Which bids are late is decided while the bid table is built (``core``), by ``compare``.
    run.execute(
        """
        CREATE TABLE r030 AS
        WITH late AS (SELECT rid, tids FROM bid WHERE late),
        tenderer AS (SELECT rid, unnest(tids) AS id FROM late),
        supplier AS (
            SELECT DISTINCT rid, id FROM award_supplier
            WHERE status = 'active' AND id IS NOT NULL AND rid IN (SELECT rid FROM late)
        )
        SELECT DISTINCT t.rid, t.id AS tid
        FROM tenderer AS t JOIN supplier AS s ON s.rid = t.rid AND s.id = t.id
        """
    )
    run.flag_process(CODE, "SELECT DISTINCT rid, 1.0 FROM r030")
    run.flag("SELECT 'Tenderer', tid, 'R030', 1.0, rid FROM r030")
    run.add_map("SELECT 'ocid_tenderer_r030', rid, tid FROM r030")
