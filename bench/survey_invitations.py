"""Benchmark: send 100,000 SPI invitations through the survey services and the channels outbox to
the fake WhatsApp Graph API, killing one send worker once mid-way.

    .venv/bin/python bench/survey_invitations.py [--people 100000] [--rate 80] [--workers 2]
        [--latency-ms 0] [--kill-at 0.4] [--kill-when accepted|any] [--lease 25] [--reconcile 30]
        [--database-url postgresql://postgres@127.0.0.1:5432/DB]

Unlike ``bench/channels_outbox.py`` (which queues bare outbox rows), the messages here come from
the survey path a coordinator uses: a population list of ``--people`` rows is imported (phones
normalised, contact data sealed), a census sample is drawn, and ``send_invitations`` claims every
invitation with a conditional UPDATE and queues it with ``queue_many`` (WhatsApp → SMS → email).
Then ``--workers`` processes of ``cegah channels drain --until-empty`` send them to the fake Graph
API on loopback, which enforces ``--rate`` messages a second (HTTP 429 above it), counts the sends
per message reference and posts its status webhooks to the app served on loopback (which marks
the invitations delivered). When ``--kill-at`` of the messages are accepted, one worker is killed
with SIGKILL (by default right after the fake accepted one of its sends) and a replacement
started; see ``bench/outbox_harness.py``. Reported: time of each stage, achieved rate against
the limit, duplicates (sends of one message beyond the first) and lost messages.
"""

from __future__ import annotations

import argparse
import sys
import time

from outbox_harness import Harness, add_arguments


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    add_arguments(parser, lease=25)
    args = parser.parse_args()

    harness = Harness(args, "cegah-bench-survey-")
    try:
        harness.migrate()
        from django.db import connection
        from django.db.models import Count

        from cegah.orgs.models import Organisation
        from cegah.survey import services
        from cegah.survey.models import Edition, Invitation

        owner = Organisation.objects.create(
            slug="inspektorat-bench", name="Inspektorat Bench", kind="unit"
        )
        institution = Organisation.objects.create(
            slug="pemkab-bench", name="Pemkab Bench", kind="regency"
        )
        units = [
            Organisation.objects.create(
                slug=f"opd-{i}", name=f"OPD {i}", kind="unit", parent=institution
            )
            for i in range(20)
        ]
        edition = services.create_edition(owner, 2026, "SPI bench", None)
        Edition.objects.filter(pk=edition.pk).update(
            status=Edition.Status.FIELDWORK, census_below=10**9
        )
        edition.refresh_from_db()
        locus = services.add_locus(edition, institution, "kabupaten", "besar", None)

        stages: dict[str, float] = {}
        began = time.perf_counter()
        lines = ["name,unit,group,phone,email"]
        for i in range(args.people):
            lines.append(f"Pegawai {i},{units[i % len(units)].slug},internal,0812{i:08d},")
        record = services.import_frame(locus, "bench.csv", "\n".join(lines).encode(), None)
        stages["import frame"] = time.perf_counter() - began
        t = time.perf_counter()
        sample = services.draw_sample(locus, None, seed=1)
        stages["draw sample"] = time.perf_counter() - t
        t = time.perf_counter()
        queued = services.send_invitations(locus, None)
        stages["claim + queue"] = time.perf_counter() - t
        again = services.send_invitations(locus, None)
        connection.close()
        print(
            f"imported {record.added:,} people, sample {sample.size:,}, queued {queued:,} "
            f"(second send queued {again}) in {time.perf_counter() - began:.1f} s "
            f"({connection.vendor})"
        )
        harness.start_web()
        elapsed = harness.drain(queued)
        stages["drain"] = elapsed
        stages["last webhooks"] = harness.settle()
        ok = harness.report(queued, elapsed, stages) and queued == args.people
        delivery = dict(
            Invitation.objects.values_list("delivery").annotate(n=Count("id")).order_by()
        )
        print(f"invitations  delivery marks {delivery}")
    finally:
        harness.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
