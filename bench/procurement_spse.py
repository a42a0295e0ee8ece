"""Benchmark: `cegah procurement import` of a large folder of SPSE ISB exports.

    .venv/bin/python bench/procurement_spse.py                # 50 copies of Kab. Bandung 2025
    .venv/bin/python bench/procurement_spse.py --copies 10

Builds, into var/bench/, a folder holding ``--copies`` copies of the real Kab. Bandung 2025 ISB
exports (``../shared/data/ocds/spse_kab_bandung_2025/raw``), each copy's package codes
(``kd_tender``, ``kd_nontender``, ``kd_paket``) made distinct, so that it reads like one folder of
many kabupaten-years. Then times the CLI import end to end as a child process, into a new store
each run, and prints the time, processes per second and the child's peak RSS. The folder is
joined through a scratch file, so peak memory should stay far below the folder's size times
four, what holding its records in memory took.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from procurement_import import ROOT, import_once

RAW = ROOT.parent / "shared" / "data" / "ocds" / "spse_kab_bandung_2025" / "raw"
BENCH = ROOT / "var" / "bench"
CODES = ("kd_tender", "kd_nontender", "kd_paket")


def ensure_folder(copies: int) -> Path:
    """Return the folder of ``copies`` copies of the Bandung exports, building it if missing."""
    folder = BENCH / f"spse_bandung_x{copies}"
    if folder.is_dir():
        return folder
    part = folder.with_name(folder.name + ".part")
    part.mkdir(parents=True, exist_ok=True)
    print(f"building {folder} ...", file=sys.stderr)
    for source in sorted(RAW.glob("*.jsonl")):
        lines = source.read_text(encoding="utf-8").splitlines()
        with (part / source.name).open("w", encoding="utf-8") as out:
            for copy in range(copies):
                for line in lines:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        out.write(line + "\n")  # kept as it is: the import reports it
                        continue
                    for code in CODES:
                        value = record.get(code) if isinstance(record, dict) else None
                        if isinstance(value, int) and not isinstance(value, bool):
                            record[code] = value * 1000 + copy
                        elif isinstance(value, str):
                            record[code] = f"{value}{copy:03d}"
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    part.rename(folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    folder = ensure_folder(args.copies)
    size = sum(p.stat().st_size for p in folder.iterdir())
    runs = [import_once(folder) for _ in range(args.repeat)]
    times, summary = [t for t, _ in runs], runs[-1][1]
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    best = min(times)
    processes = 3084 * args.copies  # Kab. Bandung 2025: 3,084 processes per copy
    print(f"folder      {folder} ({args.copies} copies, {size / 2**20:,.0f} MiB)")
    print(f"import      best {best:.1f} s, median {statistics.median(times):.1f} s")
    print(f"rate        {processes / best:,.0f} processes/s")
    print(f"peak RSS    {peak_kib / 1024:,.0f} MiB (child process)")
    print(f"result      {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
