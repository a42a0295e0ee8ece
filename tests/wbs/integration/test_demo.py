"""The demo step: one incident told three ways to three organisations becomes three candidate
pairs, once."""

from __future__ import annotations

from cegah.orgs.models import Organisation, Region
from cegah.wbs import keys
from cegah.wbs.integration.demo import DEMO_DUPLICATES, load_demo
from cegah.wbs.integration.models import Candidate
from cegah.wbs.models import Report


def test_demo_shows_the_incident_as_duplicates_to_all_three(db: None) -> None:
    province = Region.objects.create(code="18", name="Lampung", level=1, type="provinsi")
    Region.objects.create(
        code="18.01", name="Kabupaten Lampung Selatan", level=2, type="kabupaten", parent=province
    )
    for item in DEMO_DUPLICATES:
        org = Organisation.objects.create(
            slug=item["org"], name=item["org"], kind="unit", accepts_reports=True
        )
        keys.set_up_org_key(org, None)
    assert load_demo()
    assert load_demo() == []  # idempotent
    assert Report.objects.count() == 3
    pairs = Candidate.objects.select_related("a__organisation", "b__organisation")
    seen = {frozenset((c.a.organisation.slug, c.b.organisation.slug)) for c in pairs}
    assert seen == {
        frozenset(("inspektorat-lampung", "kpk")),
        frozenset(("inspektorat-lampung", "inspektorat-lampung-selatan")),
        frozenset(("kpk", "inspektorat-lampung-selatan")),
    }
