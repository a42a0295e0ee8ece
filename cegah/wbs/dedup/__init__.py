"""Privacy-preserving near-duplicate detection for complaints (no Django).

Call at intake, while the plaintext is in memory::

    key = DedupKey(settings_secret_bytes)
    fp = fingerprint(ReportFields(text=..., region=..., reported_persons=[...]), key)
    store(fp.to_bytes())                      # fingerprint column (no plaintext inside)
    store_rows(band_rows(fp, key))            # (band, band_hash) rows, indexed
    for other in candidates_from_sql(...):    # see cegah.wbs.dedup.lsh for the query
        m = compare(fp, Fingerprint.from_bytes(other.fingerprint))
        if m.is_duplicate: ...                # m.score, m.reasons()

See ``docs/duplicate-detection.md``.
"""

from cegah.wbs.dedup.fingerprint import Fingerprint, ReportFields, fingerprint
from cegah.wbs.dedup.keys import DedupKey
from cegah.wbs.dedup.lsh import BandIndex, band_rows
from cegah.wbs.dedup.pipeline import duplicate_pairs
from cegah.wbs.dedup.score import THRESHOLD, Match, compare

__all__ = [
    "THRESHOLD",
    "BandIndex",
    "DedupKey",
    "Fingerprint",
    "Match",
    "ReportFields",
    "band_rows",
    "compare",
    "duplicate_pairs",
    "fingerprint",
]
