"""Fixtures for integrated WBS: one incident told twice, a handler in the second organisation,
and submissions whose on-commit matching task runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cegah.accounts.models import User
from cegah.accounts.permissions import Role
from cegah.wbs import services
from tests.conftest import Personas, make_user

INCIDENT = (
    "Kepala Desa Sukamaju di Kecamatan Natar memotong Bantuan Langsung Tunai Dana Desa (BLT-DD) "
    "sebesar Rp300.000 dari setiap keluarga penerima manfaat. Pencairan dilakukan di balai desa "
    "pada bulan Oktober 2026 dan warga diminta menandatangani kuitansi penuh Rp900.000. Sekitar "
    "120 keluarga di Dusun II dan Dusun III mengalami pemotongan ini."
)
INCIDENT_RETOLD = (
    "Saat pembagian BLT dana desa bulan Oktober 2026 di balai Desa Sukamaju, Natar, setiap "
    "penerima hanya menerima Rp600.000 padahal haknya Rp900.000. Potongan Rp300.000 per keluarga "
    "diambil bendahara desa atas perintah kepala desa, dan warga tetap disuruh menandatangani "
    "kuitansi Rp900.000. Yang dipotong kurang lebih 120 KPM di Dusun II dan III."
)
UNRELATED = (
    "Petugas pelayanan KTP di kantor kecamatan meminta uang Rp150.000 per berkas agar e-KTP "
    "selesai cepat. Warga yang tidak membayar diminta kembali minggu depan berulang kali."
)


@pytest.fixture
def other_handler(wbs: Personas) -> User:
    """A handler of ``personas.other_org`` (which accepts reports in the ``wbs`` fixture)."""
    return make_user("other-handler", wbs.other_org, Role.HANDLER)


@pytest.fixture
def submit_matched(
    submit: Callable[..., services.Submitted], django_capture_on_commit_callbacks: Any
) -> Callable[..., services.Submitted]:
    """Submit a report and run what its commit enqueues (the matching task)."""

    def make(**fields: Any) -> services.Submitted:
        with django_capture_on_commit_callbacks(execute=True):
            return submit(**fields)

    return make


@pytest.fixture
def pair(wbs: Personas, submit_matched: Callable[..., services.Submitted]) -> tuple[Any, Any]:
    """The same incident reported to ``org`` and to ``other_org``; returns both reports."""
    first = submit_matched(
        category="kerugian_negara", description=INCIDENT, region_code="", amount=36_000_000
    ).report
    second = submit_matched(
        org=wbs.other_org,
        category="pemerasan",
        description=INCIDENT_RETOLD,
        amount=36_000_000,
    ).report
    return first, second
