"""Benchmark: drain the outbox to the fake WhatsApp Graph API with 2 workers, kill one mid-way.

    .venv/bin/python bench/channels_outbox.py [--messages 100000] [--rate 80] [--workers 2]
        [--latency-ms 0] [--kill-at 0.4] [--kill-when accepted|any] [--lease 20] [--reconcile 30]
        [--database-url postgresql://postgres@127.0.0.1:5432/DB]

The messages are queued with ``queue_many`` into a temporary SQLite database (or the PostgreSQL
database given, which should be empty), then sent by ``--workers`` processes of ``cegah channels
drain --until-empty`` to the fake Graph API on loopback, which enforces ``--rate`` messages a
second and posts its status webhooks to the app served on loopback. Once ``--kill-at`` of the
messages are accepted, one worker is killed with SIGKILL (by default right after the fake
accepted one of its sends, before the worker could record it) and a replacement is started. See
``bench/outbox_harness.py`` for the harness. Reported: achieved rate against the limit,
duplicates (sends of one message beyond the first) and lost messages (never accepted).
"""

from __future__ import annotations

import argparse
import sys
import time

from outbox_harness import Harness, add_arguments


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    add_arguments(parser, lease=20)
    args = parser.parse_args()

    harness = Harness(args, "cegah-bench-channels-")
    try:
        harness.migrate()
        from django.db import connection

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
        harness.start_web()
        elapsed = harness.drain(queued)
        harness.settle()
        ok = harness.report(queued, elapsed) and queued == args.messages
    finally:
        harness.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
