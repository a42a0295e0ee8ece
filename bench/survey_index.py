"""Benchmark: SPI index for 600,000 synthetic responses across 600 institutions.

    .venv/bin/python bench/survey_index.py [--responses 600000] [--institutions 600] [--regenerate]

Writes var/bench/survey_responses.csv (gitignored) once, then measures in a fresh child
process so that the peak RSS reported covers only reading and scoring, not data generation.
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cegah.survey.scoring import (  # noqa: E402
    compute_index,
    default_questionnaire_path,
    load_edition,
    load_questionnaire,
    read_responses_csv,
)
from cegah.survey.scoring.constants import GROUPS  # noqa: E402
from cegah.survey.scoring.flags import (  # noqa: E402
    flag_identical_patterns,
    flag_straightliners,
)

OUT_DIR = ROOT / "var" / "bench"
GROUP_SHARE = {"internal": 0.45, "external": 0.45, "expert": 0.10}


def generate(path: Path, n: int, n_inst: int, seed: int = 20240601) -> None:
    """Write n responses: each institution has a latent integrity level that shifts answers."""
    rng = np.random.default_rng(seed)
    forms = {g: load_questionnaire(default_questionnaire_path(g), g) for g in GROUPS}
    inst = rng.integers(0, n_inst, n)
    group_idx = rng.choice(len(GROUPS), n, p=[GROUP_SHARE[g] for g in GROUPS])
    level = rng.beta(5, 2, n_inst)[inst]  # 0..1, most institutions fairly good
    columns: dict[str, pl.Series] = {
        "institution": pl.Series([f"Instansi {i:03d}" for i in inst]),
        "group": pl.Series(np.array(GROUPS)[group_idx]),
    }
    for gi, group in enumerate(GROUPS):
        rows = group_idx == gi
        for item in forms[group].scored_items:
            good = np.clip(level + rng.normal(0, 0.25, n), 0, 1)
            value = 1 + np.rint(good * (item.k - 1)).astype(np.int64)
            if item.reverse:
                value = item.k + 1 - value
            answer = np.where(rows, value, 0)
            # About 3% blank answers and, for skip-logic items, blanks from non-involvement.
            blank = ~rows | (rng.random(n) < 0.03)
            columns[item.name] = (
                pl.Series(answer).cast(pl.String).scatter(np.flatnonzero(blank), None)
            )
    columns["duration_s"] = pl.Series(rng.gamma(4, 100, n).round())
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(columns).write_csv(path)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(path: Path) -> None:
    """Time each stage of the batch path and report the peak RSS reached by each stage."""
    peak = {"start": _peak_mib()}
    t0 = time.perf_counter()
    forms = {g: load_questionnaire(default_questionnaire_path(g), g) for g in GROUPS}
    edition = load_edition(2024)
    t1 = time.perf_counter()
    df = read_responses_csv(path, forms)
    t2 = time.perf_counter()
    peak["read"] = _peak_mib()
    result = compute_index(forms, df, edition, with_ci=False)
    t3 = time.perf_counter()
    peak["index"] = _peak_mib()
    result_ci = compute_index(forms, df, edition, with_ci=True)
    t4 = time.perf_counter()
    peak["index+ci"] = _peak_mib()
    items = [it.name for it in forms["internal"].scored_items]
    internal = df.filter(pl.col("group") == "internal")
    flag_straightliners(internal, items)
    flag_identical_patterns(internal, items)
    t5 = time.perf_counter()
    peak["flags"] = _peak_mib()
    print(f"responses        {df.height:>10,}  institutions {len(result.institutions):,}")
    print(f"load forms+conf  {t1 - t0:>8.2f} s")
    print(f"read CSV         {t2 - t1:>8.2f} s  ({path.stat().st_size / 2**20:,.0f} MiB)")
    print(f"index            {t3 - t2:>8.2f} s  (validation + scores, no CI)")
    print(f"index + CI       {t4 - t3:>8.2f} s  (validation + scores + linearised CIs)")
    print(f"flags (internal) {t5 - t4:>8.2f} s  (straight-lining + identical patterns)")
    print("peak RSS after   " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in peak.items()))
    sample = result_ci.institutions[0]
    print(
        f"sample: {sample.institution} index {sample.index:.2f} ({sample.category}), "
        f"95% CI {sample.ci_low:.2f}–{sample.ci_high:.2f}, n={sample.n}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=600_000)
    parser.add_argument("--institutions", type=int, default=600)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    path = OUT_DIR / f"survey_responses_{args.responses}_{args.institutions}.csv"
    if args.regenerate or not path.exists():
        t0 = time.perf_counter()
        generate(path, args.responses, args.institutions)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)


if __name__ == "__main__":
    main()
