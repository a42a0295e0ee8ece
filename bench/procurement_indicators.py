"""Benchmark: `indicators` end to end, beside DuckDB merely reading the same file.

    .venv/bin/python bench/procurement_indicators.py            # 200,000 releases
    .venv/bin/python bench/procurement_indicators.py --n 2000000

Generates the synthetic SPSE-like data with ../shared/tools/ocds_synth.py into var/bench/ if it
is missing. Times, in the same run and alternating:

* the read floor: ``SELECT count(*) FROM read_json(FILE)`` in this process (warm cache);
* the engine: ``cegah procurement indicators FILE --settings S.ini`` (run as
  ``python -m cegah.cli``) as a child process, so interpreter start-up, settings, every indicator
  and writing the JSON count;

and prints both (best and median of --repeat runs), their ratios and the child's peak RSS
(``getrusage(RUSAGE_CHILDREN)``). Target: ratio < 2 and peak RSS <= 1 GiB.

Each engine run follows its own floor measurement, so the two share the machine's state of the
moment; the headline ratio is the median of these paired ratios, which a single lucky or unlucky
run moves less than best / best (also printed, with median / median). On a shared 2-core machine,
times of either side vary by up to a third from run to run.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SYNTH = SHARED / "tools" / "ocds_synth.py"
DEFAULT_SETTINGS = SHARED / "data" / "ocds" / "synthetic" / "cardinal_settings_default.ini"
BENCH = ROOT / "var" / "bench"


def ensure_data(n: int, seed: int) -> Path:
    """Return the synthetic file for n releases, generating it if missing."""
    path = BENCH / f"synth_{n}.jsonl"
    if not path.exists():
        BENCH.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", file=sys.stderr)
        tmp = path.with_suffix(".part")
        subprocess.run(
            [sys.executable, str(SYNTH), "-n", str(n), "--seed", str(seed), "-o", str(tmp)],
            check=True,
        )
        tmp.rename(path)
    return path


def read_floor(path: Path) -> float:
    """Seconds DuckDB needs to read and count the file's JSON lines."""
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"SELECT count(*) FROM read_json('{path}')").fetchone()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def engine(path: Path, settings: Path | None, out: Path) -> float:
    """Seconds for the engine's CLI, end to end, as a child process."""
    command = [sys.executable, "-m", "cegah.cli", "procurement", "indicators", str(path)]
    if settings is not None:
        command += ["--settings", str(settings)]
    start = time.perf_counter()
    with out.open("w") as stdout:
        subprocess.run(command, check=True, stdout=stdout, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="number of releases")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--settings",
        type=Path,
        default=DEFAULT_SETTINGS if DEFAULT_SETTINGS.exists() else None,
        help="settings file (default: Cardinal's init file, all 11 indicators)",
    )
    args = parser.parse_args()

    path = ensure_data(args.n, args.seed)
    out = BENCH / f"indicators_{args.n}.json"
    size = path.stat().st_size
    read_floor(path)  # warm the page cache, so both sides read from memory

    floors, runs = [], []
    for _ in range(args.repeat):
        floors.append(read_floor(path))
        runs.append(engine(path, args.settings, out))
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux

    with out.open() as f:
        result = json.load(f)
    groups = {k: len(v) for k, v in result.items() if k not in ("Meta", "Maps")}
    best_floor, best_run = min(floors), min(runs)
    paired = statistics.median(run / floor for floor, run in zip(floors, runs, strict=True))
    print(f"file        {path} ({args.n:,} releases, {size / 2**20:,.0f} MiB)")
    print(f"settings    {args.settings or '(none: all 11 Cardinal indicators)'}")
    print(
        f"read floor  best {best_floor:.2f} s, median {statistics.median(floors):.2f} s"
        "  (DuckDB: SELECT count(*) FROM read_json)"
    )
    print(
        f"engine      best {best_run:.2f} s, median {statistics.median(runs):.2f} s"
        "  (cegah procurement indicators, end to end)"
    )
    print(
        f"ratio       {paired:.2f}x the read floor (median of paired runs; target < 2);"
        f" best/best {best_run / best_floor:.2f}x,"
        f" median/median {statistics.median(runs) / statistics.median(floors):.2f}x"
    )
    print(f"peak RSS    {peak_kib / 1024:,.0f} MiB (engine child process; target <= 1024)")
    print(f"results     {groups}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
