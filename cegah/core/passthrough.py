"""A management command that hands its raw arguments to an engine's own CLI.

The engines (procurement indicators, survey scoring) own their argument parsing so that they run
with or without Django; `cegah procurement …` and `cegah survey …` reach them through this.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand


class PassthroughCommand(BaseCommand):
    """Subclasses set ``subcommands``: name → callable(argv) returning an exit code."""

    subcommands: dict[str, Callable[[list[str]], int]] = {}

    def run_from_argv(self, argv: list[str]) -> None:
        args = argv[2:]
        if not args or args[0] in {"-h", "--help"} or args[0] not in self.subcommands:
            names = ", ".join(sorted(self.subcommands))
            self.stderr.write(f"usage: cegah {argv[1]} {{{names}}} …")
            sys.exit(0 if args and args[0] in {"-h", "--help"} else 2)
        # Django is set up already (management command), so the engine runs with settings.
        code = self.subcommands[args[0]](args[1:])
        sys.exit(code)

    def handle(self, *args: Any, **options: Any) -> None:  # pragma: no cover - call_command path
        raise NotImplementedError("use the command line: cegah <command> <subcommand> …")
