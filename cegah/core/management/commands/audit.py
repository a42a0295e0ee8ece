from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cegah.core.audit import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` recomputes the hash chain and names the first broken entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.checked} entries"))
            return
        raise CommandError(
            f"audit chain broken at entry {result.broken_id}: {result.reason} "
            f"({result.checked} entries verified before it)"
        )
