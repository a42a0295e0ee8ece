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


def test_the_heat_legend_labels_every_class_a_count_can_take() -> None:
    from cegah.wbs.oversight import heat_class, heat_legend

    legend = heat_legend(7)
    assert [css for css, _label in legend] == [f"heat-{k}" for k in range(6)]
    assert all(label for _css, label in legend)
    # Each label holds exactly the counts heat_class gives that class.
    for count in range(8):
        css = heat_class(count, 7)
        label = dict(legend)[css]
        low, _sep, high = label.split(" ")[0].partition("–")
        if css == "heat-5":
            assert count == 7
        else:
            assert int(low) <= count <= int(high or low), (count, css, label)
    # With few reports some classes cannot occur; those are not shown.
    assert [css for css, _label in heat_legend(2)] == ["heat-0", "heat-3", "heat-5"]
    assert heat_legend(0) == [("heat-0", "0")]


def test_the_map_legend_shows_each_class_with_its_counts(wbs, submit, client_for) -> None:
    sync_regions()
    for code in ["18.71"] * 7 + ["32.73"] * 3 + ["31.71"]:
        submit(region_code=code)
    page = _kpk_client(client_for).get("/wbs/oversight/map/").content.decode()
    legend = page.split('<ul class="legend">')[1].split("</ul>")[0]
    items = re.findall(r'<rect class="(heat-\d)"[^>]*/></svg> ([^<]+)</li>', legend)
    assert [css for css, _label in items] == [f"heat-{k}" for k in range(6)]
    assert items[-1][1] == "terbanyak (7)"
