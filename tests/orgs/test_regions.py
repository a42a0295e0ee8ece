from cegah.orgs.models import Region
from cegah.orgs.services import sync_regions


def test_sync_loads_all_official_regions_once(db: None) -> None:
    first = sync_regions()
    assert first.created == 38 + 514
    assert Region.objects.filter(level=1).count() == 38
    assert Region.objects.filter(level=2).count() == 514
    assert Region.objects.get(code="18.71").name == "Kota Bandar Lampung"
    assert Region.objects.get(code="18.71").parent_id == "18"
    second = sync_regions()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 552)


def test_sync_repairs_a_renamed_region(db: None) -> None:
    sync_regions()
    Region.objects.filter(code="18").update(name="Lampoeng")
    assert sync_regions().updated == 1
    assert Region.objects.get(code="18").name == "Lampung"


def test_geo_boundaries_are_served_with_matching_codes(client, db: None) -> None:
    import json

    from django.contrib.staticfiles import finders

    path = finders.find("geo/regencies.geojson")
    assert path, "regency boundaries are not among the static files"
    with open(path) as handle:
        features = json.load(handle)["features"]
    sync_regions()
    codes = {f["properties"]["code"] for f in features}
    assert codes == set(Region.objects.filter(level=2).values_list("code", flat=True))
