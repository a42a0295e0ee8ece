"""The oversight map: reports per province and, in a province, per kab/kota and at province level."""

import re

from cegah.orgs.models import Organisation
from cegah.orgs.services import sync_regions
from tests.conftest import make_user


def _kpk_client(client_for):  # type: ignore[no-untyped-def]
    kpk = Organisation.objects.create(slug="kpk-uji", name="KPK Uji", kind=Organisation.Kind.KPK)
    return client_for(make_user("kpk-officer", kpk, "handler"))


def _counts(page: str) -> dict[str, int]:
    return {
        name: int(n)
        for name, n in re.findall(
            r'<tr><td>(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</td><td class="num">(\d+)</td></tr>',
            page,
        )
    }


def test_the_province_view_counts_reports_made_at_province_level(wbs, submit, client_for) -> None:
    sync_regions()
    wbs.org.region_id = "18"
    wbs.org.save(update_fields=["region"])
    for code in ("18.71", "18.71", "18.01", "18", "18"):
        submit(region_code=code)
    submit()  # no incident region: the receiving organisation's, the province itself
    client = _kpk_client(client_for)
    national = _counts(client.get("/wbs/oversight/map/").content.decode())
    assert national == {"Lampung": 6}
    province = _counts(client.get("/wbs/oversight/map/?province=18").content.decode())
    assert province == {
        "Kota Bandar Lampung": 2,
        "Kabupaten Lampung Selatan": 1,
        "Lampung (seluruh provinsi)": 3,
    }
    assert sum(province.values()) == national["Lampung"]
