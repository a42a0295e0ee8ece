"""Demo data: KPK, Lampung with its 15 kabupaten/kota, units, an Inspektorat, a ministry, a BUMD,
and a user for every role. Idempotent: running it again changes nothing and duplicates nothing.

Later modules add their own demo data by appending a callable to ``DEMO_STEPS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from cegah.accounts.models import Membership, User
from cegah.accounts.otp import demo_totp_key
from cegah.accounts.permissions import TWO_FACTOR_ROLES, Role
from cegah.core import audit
from cegah.orgs.models import Organisation, Region
from cegah.orgs.services import sync_regions


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    org_slug: str
    roles: tuple[str, ...]


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin.inspektorat", "Rina Admin", "inspektorat-lampung", (Role.ORG_ADMIN,)),
    DemoUser("penangan", "Budi Penangan", "inspektorat-lampung", (Role.HANDLER,)),
    DemoUser("supervisor", "Sari Supervisor", "inspektorat-lampung", (Role.SUPERVISOR,)),
    DemoUser("pemantau", "Dewi Pemantau", "inspektorat-lampung", (Role.VIEWER,)),
    DemoUser(
        "koordinator.spi", "Agus Koordinator", "inspektorat-lampung", (Role.SURVEY_COORDINATOR,)
    ),
    DemoUser("analis.pbj", "Yusuf Analis", "pemprov-lampung", (Role.ANALYST,)),
    DemoUser("admin.bandarlampung", "Maya Admin Kota", "pemkot-bandar-lampung", (Role.ORG_ADMIN,)),
    DemoUser("kpk.korsup", "Hendra Korsup", "kpk", (Role.ANALYST, Role.VERIFIER)),
    DemoUser("kpk.pengaduan", "Lina Pengaduan", "kpk", (Role.HANDLER, Role.SUPERVISOR)),
    DemoUser("verifikator.kemendagri", "Tono Verifikator", "kemendagri", (Role.VERIFIER,)),
)

PROVINCE_UNITS = (
    ("Inspektorat Provinsi Lampung", "inspektorat", "inspektorat-lampung", True),
    ("Dinas Pendidikan dan Kebudayaan Provinsi Lampung", "dinas", "disdikbud-lampung", False),
    ("Dinas Kesehatan Provinsi Lampung", "dinas", "dinkes-lampung", False),
    ("Dinas Pekerjaan Umum dan Penataan Ruang Provinsi Lampung", "dinas", "pupr-lampung", False),
    ("Badan Pengelola Keuangan dan Aset Daerah Provinsi Lampung", "badan", "bpkad-lampung", False),
    ("Dinas Penanaman Modal dan PTSP Provinsi Lampung", "dinas", "dpmptsp-lampung", False),
)

# A step may return lines to print after loading (e.g. a recovery key made in this run).
DemoStep = Callable[[], list[str] | None]
DEMO_STEPS: list[DemoStep] = []


def deferred_step(module: str, name: str = "load_demo") -> DemoStep:
    """Return a demo step that imports ``module`` only when it runs.

    An app's demo module imports much of the app (the survey's, its index and so polars), which
    every start of Django, each command and worker, would otherwise pay for in ``ready()``.
    """

    def step() -> list[str] | None:
        loaded: DemoStep = getattr(importlib.import_module(module), name)
        return loaded()

    step.__qualname__ = f"{module}.{name}"
    return step


def demo_password() -> str:
    return str(settings.DEMO_PASSWORD)


def _org(slug: str, **fields: object) -> Organisation:
    org, created = Organisation.objects.get_or_create(slug=slug, defaults=fields)
    if created:
        audit.record("orgs.organisation.created", organisation=org, obj=org, details={"demo": True})
    return org


def _regency_slug(region: Region) -> str:
    prefix = "pemkot" if region.type == "kota" else "pemkab"
    short = region.name.removeprefix("Kabupaten ").removeprefix("Kota ")
    return f"{prefix}-{short.lower().replace(' ', '-')}"


def load_organisations() -> None:
    sync_regions()
    lampung = Region.objects.get(code="18")
    kpk = _org(
        "kpk", name="Komisi Pemberantasan Korupsi", kind=Organisation.Kind.KPK, accepts_reports=True
    )
    _org(
        "kemendagri",
        name="Kementerian Dalam Negeri",
        kind=Organisation.Kind.KL,
        accepts_reports=True,
    )
    province = _org(
        "pemprov-lampung",
        name="Pemerintah Provinsi Lampung",
        kind=Organisation.Kind.PROVINCE,
        region=lampung,
    )
    for name, unit_type, slug, accepts in PROVINCE_UNITS:
        _org(
            slug,
            name=name,
            kind=Organisation.Kind.UNIT,
            unit_type=unit_type,
            parent=province,
            region=lampung,
            accepts_reports=accepts,
        )
    for region in Region.objects.filter(parent=lampung).order_by("code"):
        regency = _org(
            _regency_slug(region),
            name=f"Pemerintah {region.name}",
            kind=Organisation.Kind.REGENCY,
            region=region,
            parent=province,
        )
        _org(
            f"inspektorat-{regency.slug.split('-', 1)[1]}",
            name=f"Inspektorat {region.name}",
            kind=Organisation.Kind.UNIT,
            unit_type="inspektorat",
            parent=regency,
            region=region,
            accepts_reports=True,
        )
    bandar_lampung = Organisation.objects.get(slug="pemkot-bandar-lampung")
    dinkes = _org(
        "dinkes-bandar-lampung",
        name="Dinas Kesehatan Kota Bandar Lampung",
        kind=Organisation.Kind.UNIT,
        unit_type="dinas",
        parent=bandar_lampung,
        region=bandar_lampung.region,
    )
    _org(
        "puskesmas-kedaton",
        name="Puskesmas Kedaton",
        kind=Organisation.Kind.UNIT,
        unit_type="puskesmas",
        parent=dinkes,
        region=bandar_lampung.region,
    )
    _org(
        "bank-lampung",
        name="PT Bank Pembangunan Daerah Lampung (Bank Lampung)",
        kind=Organisation.Kind.BUMD,
        parent=province,
        region=lampung,
        accepts_reports=True,
    )
    assert kpk.pk


def load_users() -> None:
    password = demo_password()
    for spec in DEMO_USERS:
        org = Organisation.objects.get(slug=spec.org_slug)
        first, _sep, last = spec.full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": first,
                "last_name": last,
                "is_demo": True,
                "email": f"{spec.username}@demo.cegah.local",
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            audit.record(
                "accounts.user.created", organisation=org, obj=user, details={"demo": True}
            )
        for role in spec.roles:
            membership, made = Membership.objects.get_or_create(
                user=user, organisation=org, role=role
            )
            if made:
                audit.record(
                    "orgs.member.added",
                    organisation=org,
                    obj=membership,
                    details={"user": user.username, "role": str(role), "demo": True},
                )
        if set(spec.roles) & TWO_FACTOR_ROLES:
            TOTPDevice.objects.get_or_create(
                user=user,
                name="demo",
                defaults={"key": demo_totp_key(user.username), "confirmed": True},
            )


def load_demo() -> list[str]:
    """Load every module's demo data in one transaction; return the lines the steps want shown."""
    if not settings.DEMO_MODE:
        raise RuntimeError("Demo data is disabled (CEGAH_DEMO=false).")
    notes: list[str] = []
    with transaction.atomic():
        load_organisations()
        load_users()
        for step in DEMO_STEPS:
            notes.extend(step() or [])
    return notes


def current_demo_code(username: str) -> str:
    """Return the demo user's current TOTP code (demo users only)."""
    from django_otp.oath import totp

    user = User.objects.get(username=username, is_demo=True)
    device = TOTPDevice.objects.get(user=user, name="demo")
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
