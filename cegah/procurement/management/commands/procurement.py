from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cegah.core.passthrough import PassthroughCommand
from cegah.procurement.engine.cli import main as engine_main


def _sub(name: str):  # type: ignore[no-untyped-def]
    return lambda argv: engine_main([name, *argv])


def score(argv: Sequence[str]) -> int:
    """``score``: compute the flags on the store and write the web's risk tables."""
    from cegah.procurement import services
    from cegah.procurement.engine import load_settings
    from cegah.procurement.engine.oserrors import describe
    from cegah.procurement.engine.settings import SettingsError
    from cegah.procurement.scoring import Policy, PolicyError

    parser = argparse.ArgumentParser(
        prog="cegah procurement score",
        description="Score every tender of the store and store the results for the web and API.",
    )
    parser.add_argument(
        "--store", default=None, help="DuckDB store (default: VAR_DIR/procurement.duckdb)"
    )
    # Not --settings: Django's own option of that name (the settings module) takes it first.
    parser.add_argument(
        "--indicators",
        default=None,
        metavar="FILE.ini",
        help="indicator settings INI, Cardinal's format (default: the packaged one)",
    )
    parser.add_argument("--policy", default=None, help="points and zone cut-offs INI (see docs)")
    args = parser.parse_args(list(argv))
    try:
        policy = Policy.parse(Path(args.policy).read_text()) if args.policy else None
    except OSError as exc:
        sys.stderr.write(f"error: {args.policy}: {describe(exc)}\n")
        return 2
    except PolicyError as exc:
        sys.stderr.write(f"error: {args.policy}: {exc}\n")
        return 2
    try:
        indicators = load_settings(args.indicators) if args.indicators else None
    except SettingsError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    try:
        result = services.score_store(
            Path(args.store) if args.store else None, policy=policy, indicators=indicators
        )
    except FileNotFoundError as exc:
        sys.stderr.write(f"error: {exc}: berkas tidak ada / no such file\n")
        return 1
    zones = ", ".join(f"{k} {v}" for k, v in sorted(result.zones.items()))
    sys.stdout.write(
        f"{result.tenders:,} tenders, {result.buyers:,} buyer-years scored ({zones})"
        f" in {result.run.seconds} s\n"
    )
    return 0


class Command(PassthroughCommand):
    help = (
        "Procurement risk tools: `procurement indicators FILE.jsonl …`, `procurement import PATH …`,"
        " `procurement score`."
    )
    subcommands = {"indicators": _sub("indicators"), "import": _sub("import"), "score": score}
