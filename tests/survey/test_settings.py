"""Edition settings: weights and corrections are entered, validated and audited; knobs have
sensible bounds; an index that the weights cannot produce is explained, not a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cegah.core.models import AuditEntry
from cegah.survey import indexing, services
from cegah.survey.models import Edition, IndexRun, Invitation
from tests.survey.test_index_web import _fill
from tests.survey.web import World, invited

pytestmark = pytest.mark.django_db

VALID = {
    "title": "SPI 2026",
    "status": "fieldwork",
    "margin_of_error": "0.05",
    "confidence_level": "0.95",
    "census_below": "30",
    "max_reminders": "3",
    "reminder_gap_days": "3",
    "lagging_below": "0.5",
    "weight_internal": "0.45",
    "weight_external": "0.35",
    "weight_expert": "0.2",
}


def _url(world: World) -> str:
    return f"/spi/o/{world.edition.organisation.slug}/2026/settings/"


@pytest.mark.parametrize(
    "bad",
    [
        {"lagging_below": "5"},
        {"lagging_below": "0"},
        {"max_reminders": "500"},
        {"census_below": "0"},
        {"census_below": "100000"},
        {"reminder_gap_days": "0"},
        {"reminder_gap_days": "400"},
        {"weight_internal": "0", "weight_external": "0", "weight_expert": "0"},
        {"weight_internal": "1000"},
        {"dw_internal_transparansi": "2"},  # one dimension weighted, the others not
        {"correction_pemkab-contoh": "-3"},
        {"correction_pemkab-contoh": "101"},
    ],
)
def test_settings_out_of_range_are_refused(world: World, client_for, bad: dict[str, str]) -> None:
    before = Edition.objects.values().get(pk=world.edition.pk)
    response = client_for(world.coordinator).post(_url(world), VALID | bad)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode() or "errors" in response.content.decode()
    assert Edition.objects.values().get(pk=world.edition.pk) == before


def test_corrections_and_dimension_weights_are_entered_audited_and_used(
    world: World, client_for
) -> None:
    _fill(world, "internal", 6, 7)
    valid = VALID | {"title": world.edition.title}
    client = client_for(world.coordinator)
    page = client.get(_url(world)).content.decode()
    assert 'name="correction_pemkab-contoh"' in page and 'name="dw_internal_pbj"' in page
    weights = {
        f"dw_internal_{d}": "1"
        for d in indexing.questionnaires(world.edition)["internal"].dimensions
    }
    weights["dw_internal_integritas"] = "3"
    assert (
        client.post(_url(world), valid | weights | {"correction_pemkab-contoh": "2.5"}).status_code
        == 302
    )
    edition = Edition.objects.get(pk=world.edition.pk)
    assert edition.corrections == {"pemkab-contoh": 2.5}
    assert edition.dimension_weights["internal"]["integritas"] == 3.0
    assert edition.dimension_weights.get("external") in (None, {})
    entry = AuditEntry.objects.filter(action="survey.edition.updated").first()
    assert entry is not None
    assert entry.details["values"]["corrections"] == {"pemkab-contoh": 2.5}
    assert set(entry.details["fields"]) == {"corrections", "dimension_weights"}
    result = indexing.compute(edition).results["institutions"]["pemkab-contoh"]
    assert result["correction"] == 2.5
    assert result["index"] == round(result["weighted"] - 2.5, 2)
    # Shown again as entered; blank again means equal weights and no correction.
    page = client.get(_url(world)).content.decode()
    assert 'name="correction_pemkab-contoh" value="2.5"' in page
    client.post(_url(world), valid)
    edition.refresh_from_db()
    assert edition.corrections == {} and edition.dimension_weights == {}


def test_an_index_the_weights_cannot_produce_is_explained(world: World, client_for) -> None:
    _fill(world, "internal", 6, 8)
    services.update_settings(
        world.edition,
        {"group_weights": {"internal": 0.0, "external": 1.0, "expert": 1.0}},
        world.coordinator,
    )
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/index/"
    response = client.post(base, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'class="msg msg-error"' in text and "Pemkab Contoh" in text
    assert "bobot" in text.lower()
    assert not IndexRun.objects.filter(edition=world.edition).exists()


def test_a_zero_gap_stored_before_the_bounds_does_not_remind_every_hour(
    world: World, graph, django_capture_on_commit_callbacks
) -> None:
    invited(world, 2)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(world.locus, world.coordinator)
    Edition.objects.filter(pk=world.edition.pk).update(reminder_gap_days=0, max_reminders=500)
    now = timezone.now()
    assert services.send_due_reminders(now + timedelta(hours=1)) == 0
    assert services.send_due_reminders(now + timedelta(days=1, minutes=1)) == 2
    for day in range(2, 40):
        Invitation.objects.update(last_sent_at=now + timedelta(days=day - 1))
        services.send_due_reminders(now + timedelta(days=day, minutes=1))
    assert max(Invitation.objects.values_list("sends", flat=True)) <= 1 + services.MAX_REMINDERS


def _input(html: str, name: str) -> str:
    import re

    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found is not None, name
    return found.group(0)


def test_the_browser_is_given_the_servers_bounds(world: World, client_for) -> None:
    html = client_for(world.coordinator).get(_url(world)).content.decode()
    bounds = {
        "census_below": ("1", "1000"),
        "reminder_gap_days": ("1", "30"),
        "max_reminders": ("0", "10"),
        "margin_of_error": ("0.005", "0.1"),
        "confidence_level": ("0.5", "0.999"),
        "lagging_below": ("0.01", "1"),
        "weight_internal": ("0", "100"),
        "correction_pemkab-contoh": ("0", "100"),
    }
    for name, (low, high) in bounds.items():
        tag = _input(html, name)
        assert f'min="{low}"' in tag and f'max="{high}"' in tag, tag
    # The server refuses exactly outside them, as the browser would.
    client = client_for(world.coordinator)
    for name, (low, high) in bounds.items():
        if name.startswith("correction"):
            continue
        for value in (low, high):
            response = client.post(_url(world), VALID | {name: value})
            assert response.status_code == 302, (name, value)


def test_limits_are_written_the_readers_way(world: World, client_for) -> None:
    response = client_for(world.coordinator).post(
        _url(world),
        VALID | {"lagging_below": "5", "weight_internal": "500", "margin_of_error": "0.5"},
    )
    html = response.content.decode()
    assert "Gunakan angka dari 0,01 sampai 1." in html  # lagging below
    assert "Gunakan angka dari 0 sampai 100." in html  # a group weight
    assert "Gunakan angka dari 0,005 sampai 0,1." in html  # margin
    assert "1.0" not in html and "100.0" not in html and "0.10" not in html
