"""``cegah channels drain|sweep|fake-whatsapp``: outbox worker loop and the loopback fake Graph API."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection


class Command(BaseCommand):
    help = "Channels: drain the outbox, sweep lost work, or serve the fake WhatsApp Graph API."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        drain = sub.add_parser("drain", help="Send due outbox messages in a loop (a send worker).")
        drain.add_argument("--batch", type=int, default=50)
        drain.add_argument("--until-empty", action="store_true", help="Exit when nothing is due.")
        drain.add_argument("--idle", type=float, default=0.5, help="Seconds to sleep when idle.")
        sub.add_parser("sweep", help="Re-enqueue due, stale and long-pending messages once.")
        fake = sub.add_parser("fake-whatsapp", help="Serve the fake Graph API on loopback.")
        fake.add_argument("--host", default="127.0.0.1")
        fake.add_argument("--port", type=int, default=8791)
        fake.add_argument("--rate", type=float, default=80.0, help="Messages per second (0: none).")
        fake.add_argument(
            "--latency-ms",
            type=float,
            default=0.0,
            help="Delay every answer by this many milliseconds (the real API: about 100-300).",
        )
        fake.add_argument(
            "--webhook-url",
            default="",
            help="Post the status webhooks here, signed with CEGAH_WHATSAPP_APP_SECRET "
            "(e.g. http://127.0.0.1:8000/channels/whatsapp/webhook); empty: keep them.",
        )
        simulate = sub.add_parser("simulate", help="Play a scripted reporter against the server.")
        simulate.add_argument("channel", choices=["whatsapp"])
        simulate.add_argument("--url", default="http://127.0.0.1:8000", help="The running server.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "drain":
            self._drain(options["batch"], options["until_empty"], options["idle"])
        elif action == "simulate":
            from django.core.management.base import CommandError

            from cegah.wbs.simulate import run

            if run(options["url"], self.stdout.write) != 0:
                raise CommandError("the simulated conversation did not complete")
        elif action == "sweep":
            from cegah.channels import inbound, outbox

            self.stdout.write(f"outbound {outbox.sweep()}, inbound {inbound.sweep()}")
        else:
            from cegah.channels.conf import get_config
            from cegah.channels.providers.fake_whatsapp import (
                FakeGraphAPI,
                post_webhooks_forever,
                serve,
            )

            fake = FakeGraphAPI(
                rate_per_second=options["rate"], app_secret=get_config().whatsapp_app_secret
            )
            server = serve(
                fake, options["host"], options["port"], latency=options["latency_ms"] / 1000
            )
            self.stdout.write(
                f"fake Graph API on http://{options['host']}:{server.server_address[1]} "
                f"(CEGAH_WHATSAPP_API_BASE), {options['rate']:g} msg/s, "
                f"{options['latency_ms']:g} ms per answer"
            )
            if options["webhook_url"]:
                post_webhooks_forever(fake, options["webhook_url"])
            server.serve_forever()

    def _drain(self, batch: int, until_empty: bool, idle: float) -> None:
        stopping = {"now": False}

        def stop(*_: object) -> None:
            stopping["now"] = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            total = self._loop(batch, until_empty, idle, stopping)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"drained {total}")

    def _loop(self, batch: int, until_empty: bool, idle: float, stopping: dict[str, bool]) -> int:
        from cegah.channels.outbox import dispatch_due, due_ids

        total = 0
        while not stopping["now"]:
            if not connection.in_atomic_block:  # inside a test's transaction, keep it
                close_old_connections()
            done = dispatch_due(batch)
            total += done
            if done == 0:
                if until_empty and not due_ids(1):
                    # Retries in backoff and leases of a dead worker running out are "not due"
                    # yet: the queue is empty only when nothing is queued or sending.
                    from cegah.channels.models import OutboundMessage

                    S = OutboundMessage.Status
                    if not OutboundMessage.objects.filter(
                        status__in=[S.QUEUED, S.SENDING]
                    ).exists():
                        break
                time.sleep(idle)
        return total
