"""Benchmark: send 100,000 SPI invitations through the survey services and the channels outbox to
the fake WhatsApp Graph API, killing one send worker once mid-way.

    .venv/bin/python bench/survey_invitations.py [--people 100000] [--rate 80] [--workers 2]
        [--kill-at 0.4] [--lease 10] [--database-url postgresql://postgres@127.0.0.1:5432/DB]

Unlike ``bench/channels_outbox.py`` (which queues bare outbox rows), the messages here come from
the survey path a coordinator uses: a population list of ``--people`` rows is imported (phones
normalised, contact data sealed), a census sample is drawn, and ``send_invitations`` claims every
invitation with a conditional UPDATE and queues it with ``queue_many`` (WhatsApp → SMS → email).
Then ``--workers`` processes of ``cegah channels drain --until-empty`` send them to the fake Graph
API on loopback, which enforces ``--rate`` messages a second (HTTP 429 above it) and counts the
sends per message reference. When ``--kill-at`` of the messages are accepted, one worker is
killed with SIGKILL and a replacement started. Reported: time of each stage, achieved rate
against the limit, duplicates (sends of one message beyond the first) and lost messages.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=80.0, help="fake provider limit, msg/s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument("--lease", type=int, default=25, help="CEGAH_CHANNELS_LEASE_SECONDS")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cegah-bench-survey-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"

    from cegah.channels.providers.fake_whatsapp import FakeGraphAPI, serve

    fake = FakeGraphAPI(rate_per_second=args.rate)
    server = serve(fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    env = dict(os.environ)
    env.update(
        CEGAH_VAR_DIR=str(tmp),
        CEGAH_DATABASE_URL=database_url,
        CEGAH_SECRET_KEY="bench-secret-key-not-for-production",
        CEGAH_DATA_SECRET="bench-data-secret-not-for-production",
        CEGAH_WHATSAPP_API_BASE=f"http://127.0.0.1:{port}",
        CEGAH_WHATSAPP_RATE_PER_SECOND=str(int(args.rate)),
        CEGAH_CHANNELS_LEASE_SECONDS=str(args.lease),
        CEGAH_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="cegah.settings",
    )
    os.environ.update(env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from cegah.channels.models import OutboundMessage
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

    stage: dict[str, float] = {}
    began = time.perf_counter()
    lines = ["name,unit,group,phone,email"]
    for i in range(args.people):
        lines.append(f"Pegawai {i},{units[i % len(units)].slug},internal,0812{i:08d},")
    record = services.import_frame(locus, "bench.csv", "\n".join(lines).encode(), None)
    stage["import frame"] = time.perf_counter() - began
    t = time.perf_counter()
    sample = services.draw_sample(locus, None, seed=1)
    stage["draw sample"] = time.perf_counter() - t
    t = time.perf_counter()
    queued = services.send_invitations(locus, None)
    stage["claim + queue"] = time.perf_counter() - t
    again = services.send_invitations(locus, None)
    connection.close()
    print(
        f"imported {record.added:,} people, sample {sample.size:,}, queued {queued:,} "
        f"(second send queued {again}) in {time.perf_counter() - began:.1f} s ({connection.vendor})"
    )

    drain = [*manage, "channels", "drain", "--until-empty", "--batch", "50", "--idle", "0.2"]
    devnull = subprocess.DEVNULL
    workers = [subprocess.Popen(drain, env=env, stdout=devnull) for _ in range(args.workers)]
    killed_at = None
    t = time.perf_counter()
    while any(w.poll() is None for w in workers):
        time.sleep(0.2)
        if killed_at is None and len(fake.sent) >= args.kill_at * queued:
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = len(fake.sent)
            print(f"killed worker pid {victim.pid} (SIGKILL) after {killed_at:,} sends")
            time.sleep(1.0)
            workers.append(subprocess.Popen(drain, env=env, stdout=devnull))
    elapsed = time.perf_counter() - t
    stage["drain"] = elapsed

    by_status = dict(
        OutboundMessage.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    references = {str(r) for r in OutboundMessage.objects.values_list("reference", flat=True)}
    lost = len(references - set(fake.per_reference))
    stats = fake.stats()
    span = (stats["last_at"] - stats["first_at"]) if stats["first_at"] else 0.0
    steady = (stats["accepted"] - 1) / span if span else 0.0
    overall = stats["accepted"] / elapsed if elapsed else 0.0
    delivery = dict(Invitation.objects.values_list("delivery").annotate(n=Count("id")).order_by())
    print()
    print(
        f"machine      {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"database     {connection.vendor}; {args.workers} send workers; lease {args.lease} s")
    print(f"invitations  {queued:,}; provider limit {args.rate:g} msg/s")
    for name, seconds in stage.items():
        print(f"  {name:<14} {seconds:8.1f} s")
    print(f"achieved     {overall:.1f} msg/s overall = {overall / args.rate:.3f} of the limit")
    print(
        f"             {steady:.1f} msg/s first to last send = {steady / args.rate:.3f} of the limit"
    )
    print(f"429 answers  {stats['rate_limited']:,}")
    print(f"statuses     {by_status}")
    print(f"invitations  delivery marks {delivery}")
    print(f"duplicates   {stats['duplicates']}  (sends beyond the first of one message)")
    print(f"lost         {lost}  (queued but never accepted by the provider)")
    server.shutdown()
    if not args.database_url:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = lost == 0 and by_status.get("sent", 0) == queued == args.people
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
