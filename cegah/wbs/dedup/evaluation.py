"""Evaluation against a labelled benchmark (``dev.jsonl`` + ``dev_pairs.csv`` format).

Library code: returns figures, prints nothing. ``bench/dedup_eval.py`` prints them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cegah.wbs.dedup.fingerprint import Fingerprint, fingerprint
from cegah.wbs.dedup.keys import DedupKey
from cegah.wbs.dedup.pipeline import candidate_pairs, fields_from_json
from cegah.wbs.dedup.score import compare

Pair = tuple[str, str]


def load_reports(path: Path) -> list[dict[str, Any]]:
    """Return the reports of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_pairs(path: Path) -> set[Pair]:
    """Return the positive pairs of a ``id_a,id_b,cluster`` CSV as sorted tuples."""
    with path.open(encoding="utf-8", newline="") as fh:
        a_b = [(row["id_a"], row["id_b"]) for row in csv.DictReader(fh)]
    return {(min(a, b), max(a, b)) for a, b in a_b}


def all_positive_pairs(reports: list[dict[str, Any]]) -> set[Pair]:
    """Return every same-cluster pair of ``reports`` (for subsets, where the CSV is too wide)."""
    clusters: dict[str, list[str]] = defaultdict(list)
    for r in reports:
        clusters[r["cluster"]].append(r["id"])
    return {
        (min(a, b), max(a, b))
        for ids in clusters.values()
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    }


def positive_kind(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Return the kind of a positive pair: natural, easy/medium/hard, or rewrite-rewrite."""
    da, db = a.get("difficulty"), b.get("difficulty")
    if "natural" in (da, db):
        return "natural"
    if da is None or db is None:
        return str(da or db)
    return "rewrite-rewrite"


@dataclass
class Evaluation:
    """Figures of one evaluation run (all pairs of the benchmark, production pipeline)."""

    threshold: float
    n_reports: int
    n_positive: int
    n_candidates: int
    candidate_recall: float
    tp: int
    fp: int
    fn: int
    recall_by_kind: dict[str, tuple[float, int]] = field(default_factory=dict)
    candidate_recall_by_kind: dict[str, tuple[float, int]] = field(default_factory=dict)
    hard_negative_fp: tuple[int, int] = (0, 0)
    sweep: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Return TP / (TP + FP)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Return TP / (TP + FN)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def fingerprints_of(reports: list[dict[str, Any]], key: DedupKey) -> dict[str, Fingerprint]:
    """Return the fingerprint of every report by id."""
    return {str(r["id"]): fingerprint(fields_from_json(r), key) for r in reports}


def _rate(hits: Counter[str], totals: Counter[str]) -> dict[str, tuple[float, int]]:
    return {k: (hits[k] / n, n) for k, n in sorted(totals.items())}


def evaluate(
    reports: list[dict[str, Any]],
    positives: set[Pair],
    key: DedupKey,
    threshold: float,
    fps: dict[str, Fingerprint] | None = None,
) -> Evaluation:
    """Return the pairwise figures of the production pipeline at ``threshold``.

    Every pair of reports is implicitly judged: pairs LSH does not propose count as "not duplicate".
    """
    by_id = {str(r["id"]): r for r in reports}
    fps = fps if fps is not None else fingerprints_of(reports, key)
    cands = candidate_pairs(fps, key)
    scores = {p: compare(fps[p[0]], fps[p[1]]).score for p in cands}
    predicted = {p for p, s in scores.items() if s >= threshold}

    kind_tot: Counter[str] = Counter()
    kind_hit: Counter[str] = Counter()
    kind_cand: Counter[str] = Counter()
    for p in positives:
        kind = positive_kind(by_id[p[0]], by_id[p[1]])
        kind_tot[kind] += 1
        kind_hit[kind] += p in predicted
        kind_cand[kind] += p in cands

    clusters: dict[str, list[str]] = defaultdict(list)
    for rid, r in by_id.items():
        clusters[r["cluster"]].append(rid)
    hard: set[Pair] = set()
    for rid, r in by_id.items():
        orig = r.get("hard_negative_of")
        if orig and orig in by_id:
            hard.update((min(rid, m), max(rid, m)) for m in clusters[by_id[orig]["cluster"]])

    sweep = []
    for step in range(10, 71, 2):
        t = step / 100
        pred_t = {p for p, s in scores.items() if s >= t}
        tp_t = len(pred_t & positives)
        prec = tp_t / len(pred_t) if pred_t else 0.0
        rec = tp_t / len(positives) if positives else 0.0
        sweep.append((t, prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0))

    return Evaluation(
        threshold=threshold,
        n_reports=len(reports),
        n_positive=len(positives),
        n_candidates=len(cands),
        candidate_recall=len(cands & positives) / len(positives) if positives else 0.0,
        tp=len(predicted & positives),
        fp=len(predicted - positives),
        fn=len(positives - predicted),
        recall_by_kind=_rate(kind_hit, kind_tot),
        candidate_recall_by_kind=_rate(kind_cand, kind_tot),
        hard_negative_fp=(len(hard & predicted), len(hard)),
        sweep=sweep,
    )
