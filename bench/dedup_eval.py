"""Duplicate-detection benchmark: P/R/F1 on the DEV set, LSH candidate recall, throughput.

    .venv/bin/python bench/dedup_eval.py [--data ../shared/data/complaints] [--threshold T]

Prints figures only (no complaint text). The key is a fixed benchmark key; results do not depend
on it beyond MinHash sampling noise.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cegah.wbs.dedup.evaluation import evaluate, fingerprints_of, load_pairs, load_reports
from cegah.wbs.dedup.fingerprint import fingerprint
from cegah.wbs.dedup.keys import DedupKey
from cegah.wbs.dedup.lsh import BANDS, ROWS
from cegah.wbs.dedup.normalize import stem
from cegah.wbs.dedup.pipeline import fields_from_json
from cegah.wbs.dedup.score import THRESHOLD

BENCH_KEY = DedupKey(b"cegah-bench-key-not-secret-000000")


def machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"


def throughput(reports: list[dict], repeat: int = 2) -> tuple[float, float]:
    """Return (cold, warm) reports/s: cold with an empty stem cache, warm with it filled."""
    stem.cache_clear()
    fields = [fields_from_json(r) for r in reports]
    t0 = time.perf_counter()
    for f in fields:
        fingerprint(f, BENCH_KEY)
    cold = len(fields) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(repeat):
        for f in fields:
            fingerprint(f, BENCH_KEY)
    warm = repeat * len(fields) / (time.perf_counter() - t0)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "complaints"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args()

    reports = load_reports(args.data / "dev.jsonl")
    positives = load_pairs(args.data / "dev_pairs.csv")
    print(f"machine: {machine()}")
    print(f"data: {args.data} ({len(reports)} reports, {len(positives)} positive pairs)")

    cold, warm = throughput(reports)
    print(f"fingerprint throughput: {cold:,.0f} reports/s cold stem cache, {warm:,.0f} warm")

    t0 = time.perf_counter()
    fps = fingerprints_of(reports, BENCH_KEY)
    ev = evaluate(reports, positives, BENCH_KEY, args.threshold, fps=fps)
    elapsed = time.perf_counter() - t0
    n_all = len(reports) * (len(reports) - 1) // 2
    print(f"pipeline on all pairs: {elapsed:.1f} s")
    print()
    print(f"LSH blocking: {BANDS} bands x {ROWS} rows + entity keys, top-100 per report")
    print(
        f"  candidates: {ev.n_candidates:,} of {n_all:,} pairs "
        f"({100 * ev.n_candidates / n_all:.2f} %); candidate recall {ev.candidate_recall:.3f}"
    )
    for kind, (rate, n) in ev.candidate_recall_by_kind.items():
        print(f"    {kind:16s} {rate:.3f} (n={n})")
    print()
    print(f"pairwise decision at threshold {ev.threshold:.2f} (all pairs of DEV):")
    print(f"  precision {ev.precision:.3f}  recall {ev.recall:.3f}  F1 {ev.f1:.3f}")
    print(f"  TP {ev.tp}  FP {ev.fp}  FN {ev.fn}")
    print("  recall by kind of positive pair:")
    for kind, (rate, n) in ev.recall_by_kind.items():
        print(f"    {kind:16s} {rate:.3f} (n={n})")
    hn_fp, hn_n = ev.hard_negative_fp
    print(
        f"  synthetic hard negatives scored >= threshold: {hn_fp} of {hn_n} pairs "
        f"({100 * hn_fp / max(hn_n, 1):.1f} %)"
    )
    print()
    print("threshold sweep (threshold precision recall F1):")
    for t, p, r, f in ev.sweep:
        mark = "  <- best" if f == max(s[3] for s in ev.sweep) else ""
        print(f"  {t:.2f} {p:.3f} {r:.3f} {f:.3f}{mark}")


if __name__ == "__main__":
    main()
