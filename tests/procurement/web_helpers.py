"""Builders for the procurement web tests: a scored store with buyers of two organisations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cegah.accounts.models import Membership, User
from cegah.accounts.permissions import Role
from cegah.orgs.models import Organisation
from cegah.procurement import services
from cegah.procurement.engine.store import Store
from cegah.procurement.models import Buyer
from tests.conftest import CANARY, Personas, make_user
from tests.procurement.conftest import release, write_releases

OWN = "ID-SATKER-OWN"
OTHER = "ID-SATKER-OTHER"
LOOSE = "ID-SATKER-UNMAPPED"


@dataclass
class World:
    analyst: User  # analyst of personas.org
    kpk_analyst: User
    other_analyst: User  # analyst of personas.other_org
    kpk: Organisation


def releases() -> list[dict]:
    own = [
        release(100 + i, OWN, bidders=1 if i < 4 else 3, title=f"Jalan {CANARY} {i} ruas desa")
        for i in range(6)
    ]
    other = [release(200 + i, OTHER, bidders=3) for i in range(6)]
    loose = [release(300 + i, LOOSE, bidders=1, month=11) for i in range(5)]
    return own + other + loose


def build_world(personas: Personas, tmp: Path) -> World:
    path = write_releases(tmp / "test.jsonl", releases())
    with Store(services.store_path()) as store:
        store.import_ocds(path)
    services.score_store()
    Buyer.objects.filter(buyer_id=OWN).update(name=f"Satker {CANARY}")
    services.map_buyer(Buyer.objects.get(buyer_id=OWN), personas.org, actor=None)
    services.map_buyer(Buyer.objects.get(buyer_id=OTHER), personas.other_org, actor=None)
    kpk = Organisation.objects.create(slug="kpk-uji", name="KPK Uji", kind=Organisation.Kind.KPK)
    analyst = make_user("analis", personas.org, Role.ANALYST)
    kpk_analyst = User.objects.create_user(
        username="kpk-analis", password="correct horse battery 9"
    )
    Membership.objects.create(user=kpk_analyst, organisation=kpk, role=Role.ANALYST)
    other_analyst = User.objects.create_user(
        username="lain-analis", password="correct horse battery 9"
    )
    Membership.objects.create(
        user=other_analyst, organisation=personas.other_org, role=Role.ANALYST
    )
    return World(analyst, kpk_analyst, other_analyst, kpk)
