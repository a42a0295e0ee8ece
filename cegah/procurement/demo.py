"""Demo data: the real Kab. Bandung 2025 SPSE exports and 2,000 synthetic SPSE-like releases,
imported into the store and scored, with their buyers mapped to demo organisations.

Idempotent: the store skips files it has imported before (by SHA-256), scoring only runs when
something was imported or nothing was scored yet, and mappings are only added to unmapped buyers.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

from cegah.core import audit
from cegah.orgs.models import Organisation, Region
from cegah.procurement import services

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"
BANDUNG = DEMO_DIR / "spse_kab_bandung_2025"
SYNTHETIC = DEMO_DIR / "synth_spse_2k.jsonl.gz"


def _gunzip(source: Path, target: Path) -> Path:
    with gzip.open(source, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


def bandung_organisation() -> Organisation:
    """Return (creating it if missing) the demo organisation of Kab. Bandung (region 32.04)."""
    org = Organisation.objects.filter(slug="pemkab-bandung").first()
    if org is None:
        org = Organisation.objects.create(
            slug="pemkab-bandung",
            name="Pemerintah Kabupaten Bandung",
            kind=Organisation.Kind.REGENCY,
            region=Region.objects.filter(code="32.04").first(),
        )
        audit.record("orgs.organisation.created", organisation=org, obj=org, details={"demo": True})
    return org


def import_demo_files(store: Path) -> bool:
    """Import both demo sources into ``store``; return whether anything new was imported."""
    from cegah.procurement.engine.spse import import_spse
    from cegah.procurement.engine.store import Store

    with tempfile.TemporaryDirectory(prefix="cegah-demo-") as tmp:
        folder = Path(tmp) / "spse_kab_bandung_2025"
        folder.mkdir()
        for gz in sorted(BANDUNG.glob("*.jsonl.gz")):
            _gunzip(gz, folder / gz.name.removesuffix(".gz"))
        synthetic = _gunzip(SYNTHETIC, Path(tmp) / "synth_spse_2k.jsonl")
        with Store(store) as s:
            reports = [import_spse(s, folder), s.import_ocds(synthetic)]
    return any(r.status == "imported" for r in reports)


def map_demo_buyers() -> int:
    """Map the Bandung satker to Pemkab Bandung and spread the synthetic satker over Lampung's
    kabupaten/kota (so the province's analyst sees its subtree). Returns mappings added."""
    from cegah.procurement.models import Buyer

    bandung = bandung_organisation()
    changed = 0
    for buyer in Buyer.objects.filter(organisation__isnull=True, tenders__source="spse").distinct():
        services.map_buyer(buyer, bandung, actor=None)
        changed += 1
    regencies = list(
        Organisation.objects.filter(
            parent__slug="pemprov-lampung", kind=Organisation.Kind.REGENCY
        ).order_by("slug")
    )
    if regencies:
        synthetic = Buyer.objects.filter(
            organisation__isnull=True, tenders__ocid__startswith="ocds-synth0-"
        ).distinct()
        for buyer in synthetic:
            digits = "".join(c for c in buyer.buyer_id if c.isdigit()) or "0"
            services.map_buyer(buyer, regencies[int(digits) % len(regencies)], actor=None)
            changed += 1
    return changed


def load_demo() -> list[str]:
    store = services.store_path()
    imported = import_demo_files(store)
    if imported or services.current_run() is None:
        services.score_store(store)
    mapped = map_demo_buyers()
    if imported or mapped:
        return [f"Procurement: {services.current_run().tenders:,} tenders scored (store {store})."]  # type: ignore[union-attr]
    return []
