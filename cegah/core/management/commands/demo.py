from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cegah.core.demo import DEMO_USERS, current_demo_code, demo_password, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo data (idempotent) and print the demo logins; `demo otp USER` prints a code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default="load", choices=["load", "otp", "logins"])
        parser.add_argument("username", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "otp":
            if not options["username"]:
                raise CommandError("usage: cegah demo otp USERNAME")
            try:
                self.stdout.write(current_demo_code(options["username"]))
            except Exception as exc:
                raise CommandError(f"{options['username']} is not a demo user with 2FA") from exc
            return
        if options["action"] == "load":
            try:
                notes = load_demo()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
            for line in notes:
                self.stdout.write(line)
        self.print_logins()

    def print_logins(self) -> None:
        from cegah.accounts.permissions import TWO_FACTOR_ROLES

        self.stdout.write(f"\nDemo logins (password for all: {demo_password()}):")
        for spec in DEMO_USERS:
            roles = ", ".join(str(r) for r in spec.roles)
            needs = (
                " [2FA: code with `cegah demo otp " + spec.username + "`]"
                if set(spec.roles) & TWO_FACTOR_ROLES
                else ""
            )
            self.stdout.write(f"  {spec.username:<24} {spec.org_slug:<24} {roles}{needs}")
