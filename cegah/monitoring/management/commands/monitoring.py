"""`cegah monitoring …`: coverage of supervisors, shipped frameworks, reminders now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cegah.monitoring import services
from cegah.monitoring.models import Coverage
from cegah.orgs.models import Organisation, Region


class Command(BaseCommand):
    help = "Prevention monitoring: coverage of supervisors, frameworks, reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        cover = sub.add_parser(
            "cover", help="Let a supervising organisation cover regional governments."
        )
        cover.add_argument("supervisor", help="Slug of the supervising organisation (e.g. kpk).")
        scope = cover.add_mutually_exclusive_group(required=True)
        scope.add_argument(
            "--region", help="Kemendagri code: 18 (a province and its kab/kota) or 18.71."
        )
        scope.add_argument("--organisation", help="Slug of one regional government.")
        scope.add_argument("--nationwide", action="store_true")
        uncover = sub.add_parser("uncover", help="Remove a coverage row by id.")
        uncover.add_argument("coverage_id", type=int)
        sub.add_parser("coverage", help="List coverage.")
        sub.add_parser(
            "frameworks", help="Install the shipped 2023 and 2024 frameworks if missing."
        )
        sub.add_parser(
            "remind", help="Send due reminders and escalate overdue recommendations now."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "cover":
            supervisor = Organisation.objects.filter(slug=options["supervisor"]).first()
            if supervisor is None:
                raise CommandError("No such organisation.")
            region = organisation = None
            if options["region"]:
                region = Region.objects.filter(code=options["region"]).first()
                if region is None:
                    raise CommandError("No such region.")
            if options["organisation"]:
                organisation = Organisation.objects.filter(slug=options["organisation"]).first()
                if organisation is None:
                    raise CommandError("No such organisation.")
            row = services.grant_coverage(
                supervisor=supervisor,
                region=region,
                organisation=organisation,
                nationwide=options["nationwide"],
                actor=None,
            )
            self.stdout.write(f"coverage {row.pk}: {row}")
        elif action == "uncover":
            existing = Coverage.objects.filter(pk=options["coverage_id"]).first()
            if existing is None:
                raise CommandError("No such coverage.")
            services.revoke_coverage(coverage=existing, actor=None)
            self.stdout.write("removed")
        elif action == "coverage":
            for row in Coverage.objects.select_related("supervisor", "region", "organisation"):
                scope = (
                    "nationwide"
                    if row.nationwide
                    else (row.region.code if row.region else row.organisation.slug)  # type: ignore[union-attr]
                )
                self.stdout.write(f"{row.pk:>5}  {row.supervisor.slug:<30} {scope}")
        elif action == "frameworks":
            from cegah.monitoring.framework_io import install_shipped_frameworks

            for framework in install_shipped_frameworks():
                self.stdout.write(str(framework))
        elif action == "remind":
            from cegah.monitoring.tasks import remind_and_escalate_recommendations

            self.stdout.write(str(remind_and_escalate_recommendations.call()))
