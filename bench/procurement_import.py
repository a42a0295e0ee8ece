"""Benchmark: `cegah procurement import` of synthetic OCDS releases into a new store.

    .venv/bin/python bench/procurement_import.py               # 50,000 releases
    .venv/bin/python bench/procurement_import.py --n 200000 --gzip

Generates the synthetic file with ../shared/tools/ocds_synth.py into var/bench/ if it is missing
(``--gzip``: imports a gzip-compressed copy of it), then times the CLI end to end as a child
process, into a new store each run, and prints the time (best and median of --repeat runs),
releases per second and the child's peak RSS. The import is Python (validation and mapping of
every field), so this is the throughput an analyst sees when loading a dataset.
"""

from __future__ import annotations

import argparse
import gzip
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from procurement_indicators import BENCH, ROOT, ensure_data


def import_once(path: Path) -> tuple[float, str]:
    """Run ``cegah procurement import PATH`` into a new store, as a child process; return the
    seconds it took and the last line it printed (its summary)."""
    with tempfile.TemporaryDirectory(prefix="cegah-bench-") as tmp:
        command = [
            sys.executable,
            "-m",
            "cegah.cli",
            "procurement",
            "import",
            str(path),
            "--store",
            str(Path(tmp) / "store.duckdb"),
            "--no-progress",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    output = (done.stdout + done.stderr).strip().splitlines()
    return elapsed, output[-1] if output else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="number of releases")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="import a .jsonl.gz copy")
    args = parser.parse_args()

    path = ensure_data(args.n, args.seed)
    if args.gzip:
        compressed = BENCH / f"{path.name}.gz"
        if not compressed.exists():
            with path.open("rb") as src, gzip.open(compressed, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst)
        path = compressed
    times = [import_once(path)[0] for _ in range(args.repeat)]
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    best, median = min(times), statistics.median(times)
    size = path.stat().st_size / 2**20
    print(f"file        {path} ({args.n:,} releases, {size:,.0f} MiB)")
    print(
        f"import      best {best:.2f} s, median {median:.2f} s ({args.n / median:,.0f} releases/s)"
    )
    print(f"peak RSS    {peak_kib / 1024:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
