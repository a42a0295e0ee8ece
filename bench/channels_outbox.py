"""Benchmark: drain the outbox to the fake WhatsApp Graph API with 2 workers, kill one mid-way.

    .venv/bin/python bench/channels_outbox.py [--messages 100000] [--rate 80] [--workers 2]
        [--kill-at 0.4] [--lease 10] [--database-url postgresql://postgres@127.0.0.1:5432/DB]

The fake Graph API runs on loopback in this process with a token-bucket limit of ``--rate``
messages a second (it answers 429 / 130429 above it) and counts accepted sends per message
reference (``biz_opaque_callback_data``). The messages are queued with ``queue_many`` into a
temporary SQLite database (or the PostgreSQL database given, which should be empty), then
``--workers`` processes of ``cegah channels drain --until-empty`` send them, sharing the rate limit
through the database. When ``--kill-at`` of the messages have been accepted, one worker is killed
with SIGKILL and a replacement is started (as systemd would). Reported: achieved rate against
the limit, duplicates (sends of one message beyond the first) and lost messages (never accepted).
A kill can cost at most one duplicate: the send in flight when the worker died.
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
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=80.0, help="fake provider limit, msg/s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument("--lease", type=int, default=20, help="CEGAH_CHANNELS_LEASE_SECONDS")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cegah-bench-channels-"))
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

    from cegah.channels.models import OutboundMessage
    from cegah.channels.outbox import Bulk, queue_many
    from cegah.channels.providers.base import Template

    started = time.perf_counter()
    template = Template("spi_undangan", "id", ("Responden",))
    queued = 0
    for start in range(0, args.messages, 5000):
        batch = [
            Bulk([("whatsapp", f"6281{i:09d}")], f"bench-{i}", template=template)
            for i in range(start, min(args.messages, start + 5000))
        ]
        queued += queue_many(
            organisation=None, purpose="survey.invitation", messages=batch, drainers=0
        )
    queue_seconds = time.perf_counter() - started
    connection.close()
    print(f"queued {queued:,} messages in {queue_seconds:.1f} s ({connection.vendor})")

    drain = [*manage, "channels", "drain", "--until-empty", "--batch", "50", "--idle", "0.2"]
    devnull = subprocess.DEVNULL
    workers = [subprocess.Popen(drain, env=env, stdout=devnull) for _ in range(args.workers)]
    killed_at = None
    began = time.perf_counter()
    while any(w.poll() is None for w in workers):
        time.sleep(0.2)
        if killed_at is None and len(fake.sent) >= args.kill_at * args.messages:
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = len(fake.sent)
            print(f"killed worker pid {victim.pid} (SIGKILL) after {killed_at:,} sends")
            time.sleep(1.0)
            workers.append(subprocess.Popen(drain, env=env, stdout=devnull))
    elapsed = time.perf_counter() - began
    if any(w.returncode not in (0, -signal.SIGKILL) for w in workers):
        print("a worker exited with an error", [w.returncode for w in workers])

    by_status = dict(
        OutboundMessage.objects.values_list("status").annotate(n=django.db.models.Count("id"))  # type: ignore[attr-defined]
    )
    references = {str(r) for r in OutboundMessage.objects.values_list("reference", flat=True)}
    accepted = set(fake.per_reference)
    lost = len(references - accepted)
    stats = fake.stats()
    span = (stats["last_at"] - stats["first_at"]) if stats["first_at"] else 0.0
    steady = (stats["accepted"] - 1) / span if span else 0.0
    overall = stats["accepted"] / elapsed
    print()
    print(
        f"machine      {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"database     {connection.vendor}; {args.workers} workers; lease {args.lease} s")
    print(f"messages     {args.messages:,}; provider limit {args.rate:g} msg/s")
    print(f"drain time   {elapsed:.1f} s (including the kill and the lease running out)")
    print(f"achieved     {overall:.1f} msg/s overall = {overall / args.rate:.3f} of the limit")
    print(
        f"             {steady:.1f} msg/s first to last send = {steady / args.rate:.3f} of the limit"
    )
    print(f"429 answers  {stats['rate_limited']:,} (provider limit hit; retried after Retry-After)")
    print(f"statuses     {by_status}")
    print(f"duplicates   {stats['duplicates']}  (sends beyond the first of one message)")
    print(f"lost         {lost}  (queued but never accepted by the provider)")
    server.shutdown()
    if not args.database_url:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = lost == 0 and by_status.get("sent", 0) == args.messages
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
