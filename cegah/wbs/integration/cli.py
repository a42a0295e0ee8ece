"""``cegah wbs …`` subcommands: the duplicate evaluation and partner registration.

``duplicates`` runs ``cegah.wbs.dedup.duplicate_pairs`` with the hub's own key: the same
normalisation, signatures, blocking (top 100 per report), re-ranking and threshold that intake and
the matching task use.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from cegah.core.spreadsheet import csv_row
from cegah.wbs.dedup import THRESHOLD, duplicate_pairs
from cegah.wbs.integration.fingerprints import dedup_key


def duplicates(argv: list[str]) -> int:
    """Write ``id_a,id_b,score`` for every pair at or above the threshold; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="cegah wbs duplicates",
        description="Find near-duplicate reports in a JSON-lines file (id, agency, channel, "
        "text, optional region) with the production pipeline and threshold.",
    )
    parser.add_argument("input", type=Path, help="JSON lines, one report per line")
    parser.add_argument("--output", "-o", type=Path, required=True, help="CSV to write")
    parser.add_argument(
        "--threshold", type=float, default=THRESHOLD, help=f"default: the shipped {THRESHOLD}"
    )
    args = parser.parse_args(argv)
    reports = []
    with args.input.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                report = json.loads(line)
                if not isinstance(report, dict) or "id" not in report or "text" not in report:
                    raise ValueError("needs id and text")
            except ValueError as exc:
                sys.stderr.write(f"{args.input}:{number}: {exc}\n")
                return 2
            reports.append(report)
    pairs = duplicate_pairs(reports, dedup_key(), threshold=args.threshold)
    with args.output.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id_a", "id_b", "score"])
        for a, b, score in pairs:
            writer.writerow(csv_row([a, b, f"{score:.4f}"]))  # ids come from the input file
    sys.stderr.write(f"{len(reports)} reports, {len(pairs)} pairs at or above {args.threshold}\n")
    return 0


def federation_register(argv: list[str]) -> int:
    """Register an organisation as a federation partner with its Ed25519 public key."""
    from cegah.orgs.models import Organisation
    from cegah.wbs.integration.federation import load_public_key, register_partner

    parser = argparse.ArgumentParser(
        prog="cegah wbs federation-register",
        description="Register ORG_SLUG as a federation partner (re-running replaces its key).",
    )
    parser.add_argument("org_slug")
    parser.add_argument("public_key_file", type=Path, help="PEM or base64 Ed25519 public key")
    args = parser.parse_args(argv)
    org = Organisation.objects.filter(slug=args.org_slug, is_active=True).first()
    if org is None:
        sys.stderr.write(f"unknown organisation {args.org_slug!r}\n")
        return 2
    try:
        public_key = load_public_key(args.public_key_file.read_bytes())
        register_partner(org, public_key)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"cannot register: {exc}\n")
        return 2
    sys.stdout.write(
        f"{org.slug} is a federation partner; it signs requests as X-Cegah-Partner: {org.slug}"
        + "\n"
    )
    return 0
