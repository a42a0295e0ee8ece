"""LSH blocking as rows of a SQL table: ``(band, band_hash, report_id)`` with an index on
``(band, band_hash)``.

A candidate is any stored report sharing at least one ``(band, band_hash)`` row with the query;
candidates are ranked by the number of shared rows. ``BandIndex`` is the in-memory equivalent
used by the evaluation and by the batch command; the Django app runs the same query in SQL::

    SELECT report_id, COUNT(*) AS hits FROM wbs_dedup_band
     WHERE (band, band_hash) IN (...rows of the new report...) AND report_id <> %s
     GROUP BY report_id ORDER BY hits DESC LIMIT %s

with at most ``ROW_CAP`` reports read per row, the newest first (see
``cegah.wbs.integration.services.candidate_sql``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable

from cegah.wbs.dedup.fingerprint import Fingerprint
from cegah.wbs.dedup.keys import DedupKey
from cegah.wbs.dedup.minhash import EMPTY, NUM_PERM

# 42 bands of 3 rows over the word signature (126 of the 128 values): a pair with word Jaccard 0.2
# collides in at least one band with probability 1-(1-0.2^3)^42 = 0.29, at 0.3 with 0.68, at 0.4
# with 0.93. On DEV this finds 96 % of the positive pairs while proposing 0.6 % of all pairs
# (3 rows: 0.913 / 0.29 %; 2 rows: 0.995 / 4.8 %, i.e. 8x the candidate rows to read per query).
# Bands over the word-pair signature are not used: retellings share single words far more than
# word pairs.
ROWS = 3
BANDS = NUM_PERM // ROWS
# At most this many reports are read per (band, band_hash) row, the newest first. A bucket that
# holds more is a common word triple or a common entity (a big village): it carries little
# evidence, and reading all of it is what makes a query slow at a million stored reports
# (bench/dedup_query.py). Newest first because the same incident reported twice is usually
# reported within weeks. No bucket of the DEV set comes near this size, so DEV figures are unchanged.
ROW_CAP = 300
# Entity blocking keys get band numbers from 100 up so they live in the same table.
ENTITY_BAND = {"tender": 100, "school": 101, "street": 102, "village": 103, "person": 104}


def band_rows(fp: Fingerprint, key: DedupKey) -> list[tuple[int, int]]:
    """Return the ``(band, band_hash)`` rows to store for a fingerprint (band_hash: signed int64).

    The band hash is keyed as well, so the table cannot be joined against another deployment's.
    """
    h = key.hasher("lsh-band")
    rows: list[tuple[int, int]] = []
    sig = fp.words.astype(">u4")
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS]
        if bool((chunk == EMPTY).all()):
            continue
        rows.append((band, h.int64(band.to_bytes(2, "big") + chunk.tobytes())))
    for kind, band in ENTITY_BAND.items():
        for value in sorted(fp.entities.get(kind, ())):
            rows.append((band, h.int64(band.to_bytes(2, "big") + bytes.fromhex(value))))
    return rows


class BandIndex:
    """In-memory band table (same semantics as the SQL table and query above)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[int, int], list[Hashable]] = defaultdict(list)

    def add(self, report_id: Hashable, rows: list[tuple[int, int]]) -> None:
        """Store the band rows of one report."""
        for row in rows:
            self._buckets[row].append(report_id)

    def query(
        self,
        rows: list[tuple[int, int]],
        limit: int = 100,
        exclude: Hashable | None = None,
        row_cap: int = ROW_CAP,
    ) -> list[tuple[Hashable, int]]:
        """Return up to ``limit`` ``(report_id, shared_rows)`` candidates, most shared first.

        Only the ``row_cap`` most recently added reports of each row count (as in SQL, where
        newer reports have higher ids).
        """
        hits: Counter[Hashable] = Counter()
        for row in rows:
            hits.update(self._buckets.get(row, ())[-row_cap:])
        if exclude is not None:
            hits.pop(exclude, None)
        return hits.most_common(limit)
