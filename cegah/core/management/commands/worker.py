"""Run a task worker together with the periodic-job scheduler."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from cegah.core.tasks_glue import run_due_jobs

logger = logging.getLogger("cegah.tasks")


def scheduler_loop(stop: threading.Event, tick: float) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            names = run_due_jobs()
            if names:
                logger.info("scheduled: %s", ", ".join(names))
        except Exception:
            # A failed tick (database briefly unavailable) must not kill the worker; try again.
            logger.exception("scheduler tick failed")
        stop.wait(tick)


class Command(BaseCommand):
    help = (
        "Run the task worker and the scheduler for periodic jobs. Run several for more throughput."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-scheduler", action="store_true", help="Only run tasks.")
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["no_scheduler"]:
            thread = threading.Thread(
                target=scheduler_loop, args=(stop, settings.SCHEDULER_TICK_SECONDS), daemon=True
            )
            thread.start()
        try:
            worker_args = [
                "--queue-name",
                options["queue_name"],
                "--interval",
                str(options["interval"]),
            ]
            if options["batch"]:
                worker_args.append("--batch")
            call_command("db_worker", *worker_args)
        finally:
            stop.set()
