"""A small Lampung for monitoring tests: a province, two kab/kota, KPK covering the province,
and a framework whose arithmetic is easy to check by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from cegah.accounts.models import Membership, User
from cegah.accounts.permissions import Role
from cegah.monitoring import services
from cegah.monitoring.framework_io import (
    AreaSpec,
    FrameworkSpec,
    IndicatorSpec,
    SubSpec,
    save_framework,
)
from cegah.monitoring.models import Framework, Period, Recommendation, SubIndicator
from cegah.orgs.models import Organisation, Region

D = Decimal


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=root):
        yield root
    shutil.rmtree(root, ignore_errors=True)


def hand_spec(year: int = 2030, version: int = 1) -> FrameworkSpec:
    """Area 1 (60): I1 (50) = S1 50 + S2 50; I2 (50) = S1 100. Area 2 (40): I1 (100) = S1 30 + S2 70."""
    return FrameworkSpec(
        year=year,
        version=version,
        name=f"Hand {year}",
        areas=[
            AreaSpec(
                "1",
                "Pengadaan",
                D(60),
                indicators=[
                    IndicatorSpec(
                        "1",
                        "UKPBJ",
                        D(50),
                        subs=[SubSpec("1", "SK", D(50)), SubSpec("2", "Praktik", D(50))],
                    ),
                    IndicatorSpec("2", "RUP", D(50), subs=[SubSpec("1", "Umum", D(100))]),
                ],
            ),
            AreaSpec(
                "2",
                "APIP",
                D(40),
                indicators=[
                    IndicatorSpec(
                        "1",
                        "Kapabilitas",
                        D(100),
                        subs=[SubSpec("1", "IACM", D(30)), SubSpec("2", "SDM", D(70))],
                    ),
                ],
            ),
        ],
    )


@dataclass
class Mcp:
    province: Organisation
    city: Organisation
    regency: Organisation
    kpk: Organisation
    city_admin: User
    regency_admin: User
    verifier: User
    kpk_viewer: User
    framework: Framework
    period: Period

    def recommend(
        self, *, title: str = "Tetapkan SOP benturan kepentingan", days: int = 30, **extra: Any
    ) -> Recommendation:
        """KPK's verifier records a recommendation for the city, due in ``days`` days."""
        return services.create_recommendation(
            institution=self.city,
            issued_by=self.kpk,
            actor=self.verifier,
            title=title,
            due_date=timezone.localdate() + dt.timedelta(days=days),
            **extra,
        )

    def sub(self, area: str, indicator: str, code: str) -> SubIndicator:
        return SubIndicator.objects.get(
            indicator__area__framework=self.framework,
            indicator__area__code=area,
            indicator__code=indicator,
            code=code,
        )


def _user(username: str, org: Organisation, role: str) -> User:
    user = User.objects.create_user(
        username=username, password="x-long-password-1", email=f"{username}@example.org"
    )
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


@pytest.fixture
def mcp(db: None) -> Mcp:
    lampung = Region.objects.create(code="18", name="Lampung", level=1, type="provinsi")
    city_region = Region.objects.create(
        code="18.71", name="Kota Bandar Lampung", level=2, type="kota", parent=lampung
    )
    regency_region = Region.objects.create(
        code="18.01", name="Kabupaten Lampung Selatan", level=2, type="kabupaten", parent=lampung
    )
    province = Organisation.objects.create(
        slug="pemprov-lampung", name="Pemprov Lampung", kind="province", region=lampung
    )
    city = Organisation.objects.create(
        slug="pemkot-bandar-lampung",
        name="Pemkot Bandar Lampung",
        kind="regency",
        region=city_region,
        parent=province,
    )
    regency = Organisation.objects.create(
        slug="pemkab-lampung-selatan",
        name="Pemkab Lampung Selatan",
        kind="regency",
        region=regency_region,
        parent=province,
    )
    Organisation.objects.create(
        slug="dinkes-bl", name="Dinas Kesehatan BL", kind="unit", parent=city, region=city_region
    )
    kpk = Organisation.objects.create(slug="kpk", name="KPK", kind="kpk")
    services.grant_coverage(supervisor=kpk, region=lampung, actor=None)
    framework = save_framework(hand_spec(), actor=None)
    return Mcp(
        province=province,
        city=city,
        regency=regency,
        kpk=kpk,
        city_admin=_user("admin.city", city, Role.ORG_ADMIN),
        regency_admin=_user("admin.regency", regency, Role.ORG_ADMIN),
        verifier=_user("kpk.verifier", kpk, Role.VERIFIER),
        kpk_viewer=_user("kpk.viewer", kpk, Role.VIEWER),
        framework=framework,
        period=Period.objects.get(framework=framework, quarter=1),
    )
