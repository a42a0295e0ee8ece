"""The batch pipeline behind ``cegah wbs duplicates INPUT.jsonl --output pairs.csv``.

Exactly the production path: ``fingerprint`` -> ``band_rows`` into a band index -> candidates by
shared bands -> ``compare`` -> threshold. Input reports are dicts with ``id``, ``text`` and optional
``region`` (``agency``/``channel`` are ignored: duplicates are looked for across agencies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cegah.wbs.dedup.entities import tender_codes_in_text
from cegah.wbs.dedup.fingerprint import Fingerprint, ReportFields, fingerprint
from cegah.wbs.dedup.keys import DedupKey
from cegah.wbs.dedup.lsh import BandIndex, band_rows
from cegah.wbs.dedup.score import THRESHOLD, compare

# Candidates re-ranked per report (the SQL query's LIMIT).
CANDIDATE_LIMIT = 100


def fields_from_json(report: Mapping[str, Any]) -> ReportFields:
    """Return the ``ReportFields`` of one JSON-lines report (``text`` required).

    Raises ``KeyError`` if ``text`` is missing.
    """
    text = str(report["text"])
    return ReportFields(
        text=text,
        region=report.get("region") or None,
        reported_persons=tuple(report.get("reported_persons") or ()),
        reported_institutions=tuple(report.get("reported_institutions") or ()),
        # Codes named in the text count like codes given in a form field (same as at intake).
        tender_codes=tuple(report.get("tender_codes") or ()) + tuple(tender_codes_in_text(text)),
        amount=report.get("amount"),
    )


def candidate_pairs(
    fingerprints: Mapping[str, Fingerprint], key: DedupKey, limit: int = CANDIDATE_LIMIT
) -> set[tuple[str, str]]:
    """Return the unordered id pairs (sorted tuples) that LSH blocking proposes."""
    index = BandIndex()
    rows = {rid: band_rows(fp, key) for rid, fp in fingerprints.items()}
    for rid, r in rows.items():
        index.add(rid, r)
    pairs: set[tuple[str, str]] = set()
    for rid, r in rows.items():
        for other, _hits in index.query(r, limit=limit, exclude=rid):
            a, b = sorted((rid, str(other)))
            pairs.add((a, b))
    return pairs


def duplicate_pairs(
    reports: Iterable[Mapping[str, Any]],
    key: DedupKey,
    threshold: float = THRESHOLD,
) -> list[tuple[str, str, float]]:
    """Return ``(id_a, id_b, score)`` for every pair scoring at least ``threshold``, best first."""
    fps = {str(r["id"]): fingerprint(fields_from_json(r), key) for r in reports}
    out = []
    for a, b in candidate_pairs(fps, key):
        match = compare(fps[a], fps[b])
        if match.score >= threshold:
            out.append((a, b, round(match.score, 4)))
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out
