"""The coordinator's path: frame, sample, invitations through the outbox, reminders, opt-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cegah.channels.models import OutboundMessage
from cegah.core.crypto import DecryptionError
from cegah.survey import hooks, sealing, services
from cegah.survey.models import Edition, FrameImport, Invitation, Respondent
from tests.survey.web import FRAME_CSV, World, invited

pytestmark = pytest.mark.django_db


def test_frame_import_merges_duplicates_and_keeps_contact_data_sealed(
    world: World, client_for
) -> None:
    client = client_for(world.coordinator)
    url = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("daftar.csv", FRAME_CSV.encode(), content_type="text/csv")
    response = client.post(url + "frame/", {"file": upload})
    assert response.status_code == 302
    record = FrameImport.objects.get()
    assert (record.rows, record.added, record.merged, record.rejected) == (4, 3, 1, 0)
    assert record.problems == [] and not record.refused and record.encoding == "UTF-8"
    people = Respondent.objects.filter(locus=world.locus)
    assert people.count() == 3
    sari = next(
        r
        for r in people
        if sealing.unseal_contact(r.public_id, r.contact_sealed)["name"] == "Sari Dewi"
    )
    assert sealing.unseal_contact(sari.public_id, sari.contact_sealed)["phone"] == "+6281211110002"
    # Bound to its row: the ciphertext of one respondent does not open as another's.
    other = people.exclude(pk=sari.pk).first()
    assert other is not None
    with pytest.raises(DecryptionError):
        sealing.unseal_contact(other.public_id, sari.contact_sealed)
    page = client.get(url)
    assert page.status_code == 200
    for secret in (b"Sari Dewi", b"0812", b"+62812", b"sari@contoh.id"):
        assert secret not in page.content


def test_sample_is_recorded_and_reproducible(world: World) -> None:
    rows = ["name,unit,group,phone,email"] + [
        f"P{i},dinas-contoh,internal,0812{i:08d}," for i in range(400)
    ]
    services.import_frame(world.locus, "f.csv", "\n".join(rows).encode(), world.coordinator)
    first = services.draw_sample(world.locus, world.coordinator, seed=99)
    chosen = set(Respondent.objects.filter(sampled=True).values_list("pk", flat=True))
    assert first.size == len(chosen) == Invitation.objects.count() == 197  # n for N=400
    again = services.draw_sample(world.locus, world.coordinator, seed=first.seed)
    assert set(Respondent.objects.filter(sampled=True).values_list("pk", flat=True)) == chosen
    assert again.strata == first.strata


def test_invitations_go_through_the_outbox_with_fallback_and_one_link_each(
    world: World, graph, django_capture_on_commit_callbacks, client_for
) -> None:
    services.import_frame(world.locus, "f.csv", FRAME_CSV.encode(), world.coordinator)
    services.draw_sample(world.locus, world.coordinator, seed=5)
    client = client_for(world.coordinator)
    url = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/invite/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    messages = list(OutboundMessage.objects.filter(purpose="survey.invitation"))
    assert len(messages) == 3
    orders = sorted(m.channels for m in messages)
    assert orders == ["email", "whatsapp,sms", "whatsapp,sms,email"]
    assert len(graph.sent) == 2  # the email-only person got an email instead
    links = [s["payload"]["template"]["components"][0]["parameters"][2]["text"] for s in graph.sent]
    assert len(set(links)) == 2
    token = links[0].rstrip("/").split("/")[-1]
    assert Invitation.objects.filter(token_hash=sealing.token_hash(token)).exists()
    # No column holds the token itself.
    assert not Invitation.objects.filter(nonce=token).exists()
    assert all(inv.sends == 1 for inv in Invitation.objects.all())
    # Sending again queues nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_invitations(world.locus, world.coordinator) == 0


def test_reminders_respect_the_limit_gap_completion_and_opt_out(
    world: World, graph, django_capture_on_commit_callbacks
) -> None:
    pairs = invited(world, 4)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(world.locus, world.coordinator)
    Edition.objects.filter(pk=world.edition.pk).update(max_reminders=2, reminder_gap_days=3)
    Invitation.objects.filter(pk=pairs[0][0].pk).update(completed=True)
    Invitation.objects.filter(pk=pairs[1][0].pk).update(opted_out=True)
    now = timezone.now()
    assert services.send_due_reminders(now + timedelta(days=1)) == 0
    assert services.send_due_reminders(now + timedelta(days=3, minutes=1)) == 2
    assert services.send_due_reminders(now + timedelta(days=4)) == 0  # gap not reached again
    later = now + timedelta(days=7)
    Invitation.objects.update(last_sent_at=later - timedelta(days=3))
    assert services.send_due_reminders(later) == 2
    Invitation.objects.update(last_sent_at=later)
    assert services.send_due_reminders(later + timedelta(days=30)) == 0  # at most 2 reminders
    counts = dict(Invitation.objects.values_list("pk", "sends"))
    assert counts[pairs[2][0].pk] == 3 and counts[pairs[0][0].pk] == 1
    keys = set(OutboundMessage.objects.values_list("idempotency_key", flat=True))
    assert f"survey:inv:{pairs[2][0].pk}:2" in keys


class _Event:
    def __init__(self, text: str, address: str) -> None:
        self.kind = "text"
        self.channel = "whatsapp"
        self.text = text
        self.sender_address = address


def test_inbound_stop_opts_the_sender_out(world: World) -> None:
    pairs = invited(world, 2)
    assert hooks.on_inbound(_Event("halo", "6281212340000")) is False
    assert hooks.on_inbound(_Event(" BERHENTI ", "6281212340000")) is True
    assert list(Invitation.objects.order_by("pk").values_list("opted_out", flat=True)) == [
        True,
        False,
    ]
    assert pairs


def test_delivery_status_follows_the_outbox(world: World) -> None:
    (inv, _token), *_ = invited(world, 1)
    services.record_delivery(f"survey:inv:{inv.pk}:0", "sent")
    services.record_delivery(f"survey:inv:{inv.pk}:0", "read")
    services.record_delivery(f"survey:inv:{inv.pk}:0", "delivered")
    inv.refresh_from_db()
    assert inv.delivery == "read"


def test_lagging_alert_emails_counts_without_personal_data(world: World) -> None:
    pairs = invited(world, 6)
    Invitation.objects.update(sends=1)
    world.coordinator.email = "koordinator@contoh.id"
    world.coordinator.save()
    assert services.send_lagging_alerts(world.edition) == 1
    assert services.send_lagging_alerts(world.edition) == 0  # once a day
    body = mail.outbox[0].body
    assert "Dinas Contoh" in body and "0 " in body
    assert "Orang" not in body and "0812" not in body
    assert pairs
    assert body.rstrip().endswith(f"/spi/o/{world.edition.organisation.slug}/2026/")


def _invite_two_groups(world: World) -> None:
    """Frame and sample six people in each of two groups of one unit, all invited once."""
    frame = ["name,unit,group,phone,email"]
    frame += [
        f"Orang {i},dinas-contoh,{g},0812{j}234{i:04d},"
        for j, g in enumerate(("internal", "external"))
        for i in range(6)
    ]
    services.import_frame(world.locus, "f.csv", "\n".join(frame).encode(), world.coordinator)
    services.draw_sample(world.locus, world.coordinator, seed=1)
    Invitation.objects.update(sends=1)


def test_lagging_alert_lists_the_worst_units_and_counts_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "ALERT_LINES", 1)
    _invite_two_groups(world)
    first = Invitation.objects.filter(group="internal").first()
    Invitation.objects.filter(pk=first.pk).update(completed=True)  # type: ignore[union-attr]
    world.coordinator.email = "koordinator@contoh.id"
    world.coordinator.save()
    assert services.send_lagging_alerts(world.edition) == 1
    body = mail.outbox[0].body
    assert "Eksternal: 0 dari" in body and "Internal:" not in body  # the worst one
    assert "… dan 1 lainnya: lihat halaman edisi." in body
    assert mail.outbox[0].subject == "SPI 2026: 2 unit tertinggal"  # all of them counted


def test_dashboard_and_export_show_counts(world: World, client_for) -> None:
    invited(world, 3)
    Invitation.objects.update(sends=1)
    Invitation.objects.filter(pk=Invitation.objects.first().pk).update(opened=True, completed=True)  # type: ignore[union-attr]
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/"
    page = client.get(base)
    assert page.status_code == 200 and b"Dinas Contoh" in page.content
    assert b"lagging" in page.content
    xlsx = client.get(base + "export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    partial = client.get(base, headers={"HX-Request": "true"})
    assert b"<html" not in partial.content


def test_a_large_edition_lists_only_its_most_lagging_unit_rows(
    world: World, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cegah.survey import views

    _invite_two_groups(world)
    rows = services.response_rates(world.edition)
    assert len(rows) == 2
    best = max(rows, key=lambda r: r.progress)
    Invitation.objects.filter(unit=best.unit, group=best.group).update(completed=True)
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/"
    full = client.get(base).content.decode()
    monkeypatch.setattr(views, "UNIT_ROWS_SHOWN", 1)
    page = client.get(base).content.decode()
    assert full.count('class="lagging"') == len(rows) - 1
    assert page.count('class="lagging"') == 1 and page.count("<meter") == full.count("<meter") - (
        len(rows) - 1
    )
    assert f"Ditampilkan 1 dari {len(rows)} baris yang paling tertinggal" in page
    # Nothing lagging: said so, not an empty table that reads "no sample drawn yet".
    Invitation.objects.update(completed=True)
    page = client.get(base).content.decode()
    assert f"Tidak satu pun dari {len(rows)} baris yang tertinggal" in page
    assert "Belum ada sampel" not in page


def test_only_loci_of_the_coordinators_province(personas, world: World) -> None:
    from django.core.exceptions import ValidationError

    from cegah.orgs.models import Organisation, Region

    region = Region.objects.create(code="91", name="Papua", level=1, type="provinsi")
    other = Region.objects.create(code="18", name="Lampung", level=1, type="provinsi")
    Organisation.objects.filter(pk=personas.org.pk).update(region=other)
    world.edition.organisation.refresh_from_db()
    far = Organisation.objects.create(
        slug="pemprov-papua", name="Pemprov Papua", kind="province", region=region
    )
    near = Organisation.objects.create(
        slug="pemprov-x", name="Pemprov X", kind="province", region=other
    )
    assert list(services.locus_candidates(world.edition)) == [near]
    with pytest.raises(ValidationError):
        services.add_locus(world.edition, far, "provinsi", "", world.coordinator)


def test_coordinator_creates_an_edition_and_edits_its_settings(
    personas, world: World, client_for
) -> None:
    client = client_for(world.coordinator)
    assert client.get("/spi/").status_code == 200
    url = f"/spi/o/{personas.org.slug}/"
    assert client.post(url, {"year": 2023, "title": "SPI 2023"}).status_code == 302
    old = Edition.objects.get(organisation=personas.org, year=2023)
    assert old.category_scheme == "4-class" and len(old.category_bands) == 4
    assert old.questionnaires.count() == 3
    assert client.post(url, {"year": 2023}).status_code == 200  # the year exists already
    settings_url = f"/spi/o/{personas.org.slug}/2026/settings/"
    assert client.get(settings_url).status_code == 200
    data = {
        "title": "SPI 2026",
        "status": "fieldwork",
        "margin_of_error": "0.03",
        "confidence_level": "0.95",
        "census_below": "20",
        "max_reminders": "2",
        "reminder_gap_days": "4",
        "lagging_below": "0.4",
        "weight_internal": "0.5",
        "weight_external": "0.3",
        "weight_expert": "0.2",
    }
    assert client.post(settings_url, data).status_code == 302
    world.edition.refresh_from_db()
    assert world.edition.margin_of_error == 0.03
    assert world.edition.group_weights == {"internal": 0.5, "external": 0.3, "expert": 0.2}
    assert client.post(settings_url, data | {"margin_of_error": "0.2"}).status_code == 200


def test_a_viewer_of_the_organisation_cannot_coordinate(personas, world: World, client_for) -> None:
    client = client_for(personas.viewer)
    assert client.get(f"/spi/o/{personas.org.slug}/2026/").status_code == 404


def test_a_send_is_claimed_once_even_from_stale_reads(world: World) -> None:
    invited(world, 3)
    stale = list(Invitation.objects.select_related("respondent", "locus"))
    assert len(services._claim(stale, timezone.now())) == 3
    assert services._claim(stale, timezone.now()) == []  # a second scheduler read the same rows
    assert set(Invitation.objects.values_list("sends", flat=True)) == {1}


def test_a_closed_edition_sends_no_invitations_or_reminders(
    world: World, graph, django_capture_on_commit_callbacks, client_for
) -> None:
    from django.core.exceptions import ValidationError

    invited(world, 3)
    Edition.objects.filter(pk=world.edition.pk).update(status=Edition.Status.CLOSED)
    world.locus.refresh_from_db()
    client = client_for(world.coordinator)
    url = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/"
    page = client.get(url).content.decode()
    assert "Kirim 3 undangan" not in page and "ditutup" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "invite/", follow=True)
    assert "ditutup" in response.content.decode()
    with pytest.raises(ValidationError):
        services.send_invitations(world.locus, world.coordinator)
    assert not OutboundMessage.objects.exists() and not graph.sent
    assert set(Invitation.objects.values_list("sends", flat=True)) == {0}
    # Invitations sent before the close get no reminder after it.
    Invitation.objects.update(sends=1, last_sent_at=timezone.now() - timedelta(days=30))
    assert services.send_due_reminders(timezone.now()) == 0
    assert not OutboundMessage.objects.exists()


def test_a_closed_editions_qr_registration_says_it_is_closed(
    world: World, client_for, mailoutbox
) -> None:
    from django.test import Client

    from cegah.survey.models import Locus, Respondent

    Locus.objects.filter(pk=world.locus.pk).update(registration_open=True)
    invited(world, 3)  # lagging: nobody has answered
    world.coordinator.email = "koordinator@contoh.id"
    world.coordinator.save(update_fields=["email"])
    Edition.objects.filter(pk=world.edition.pk).update(status=Edition.Status.CLOSED)
    # The respondent who scans the code at the counter is told, not sent to "page not found".
    url = f"/spi/daftar/{world.locus.registration_code}/"
    page = Client().get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "Pendaftaran sudah ditutup" in html
    assert 'name="phone"' not in html
    data = {"unit": world.unit.pk, "name": "Warga", "phone": "0812 9999 0000"}
    refused = Client().post(url, data | {"served_recently": "on", "consent": "on"})
    assert refused.status_code == 409 and "Pendaftaran sudah ditutup" in refused.content.decode()
    assert not Respondent.objects.filter(source="self").exists()
    assert Client().get("/spi/daftar/tidak-ada/").status_code == 404
    # The coordinator's QR page says it is closed, shows no code and cannot open it again.
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/"
    qr = client.get(base + "registrations/").content.decode()
    assert "<svg" not in qr and world.locus.registration_code not in qr
    assert "Tutup pendaftaran" not in qr and "Buka pendaftaran" not in qr
    assert "Edisi ini sudah ditutup" in qr
    client.post(base + "registrations/", {"open": "1"})
    assert (
        Client().get(url).status_code == 200
        and 'name="phone"' not in Client().get(url).content.decode()
    )
    # Nor does the edition page offer to alert the coordinators of lagging units any more.
    edition = client.get(f"/spi/o/{world.edition.organisation.slug}/2026/").content.decode()
    assert "Kirim peringatan ke koordinator" not in edition
    client.post(f"/spi/o/{world.edition.organisation.slug}/2026/alert/")
    assert mailoutbox == []


def test_registration_closed_by_the_coordinator_says_so(world: World, client_for) -> None:
    from django.test import Client

    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/"
    url = f"/spi/daftar/{world.locus.registration_code}/"
    assert "Pendaftaran sudah ditutup" in Client().get(url).content.decode()
    client.post(base + "registrations/", {"open": "1"})
    assert 'name="phone"' in Client().get(url).content.decode()
    assert "<svg" in client.get(base + "registrations/").content.decode()
    client.post(base + "registrations/", {"open": "0"})
    assert "Pendaftaran sudah ditutup" in Client().get(url).content.decode()


def test_a_locus_units_are_its_own_not_other_institutions(world: World, client_for) -> None:
    """A province's units are its dinas and badan, not the regencies, cities and BUMD that sit
    under it in the organisation tree (each is an institution, and may be a locus itself)."""
    from django.test import Client

    from cegah.orgs.models import Organisation
    from cegah.survey.models import Locus

    province = Organisation.objects.create(slug="pemprov-x", name="Pemprov X", kind="province")
    dinas = Organisation.objects.create(
        slug="dinas-x", name="Dinas X", kind="unit", parent=province
    )
    uptd = Organisation.objects.create(slug="uptd-x", name="UPTD X", kind="unit", parent=dinas)
    city = Organisation.objects.create(
        slug="pemkot-y", name="Pemkot Y", kind="regency", parent=province
    )
    Organisation.objects.create(slug="dinkes-y", name="Dinkes Y", kind="unit", parent=city)
    bank = Organisation.objects.create(slug="bank-x", name="Bank X", kind="bumd", parent=province)
    Organisation.objects.create(slug="cabang-x", name="Cabang Bank X", kind="unit", parent=bank)
    locus = services.add_locus(world.edition, province, "provinsi", "besar", world.coordinator)
    assert {u.slug for u in services.units_of(locus)} == {"pemprov-x", "dinas-x", "uptd-x"}
    Locus.objects.filter(pk=locus.pk).update(registration_open=True)
    page = Client().get(f"/spi/daftar/{locus.registration_code}/").content.decode()
    assert "Dinas X" in page and "UPTD X" in page
    for other in ("Pemkot Y", "Dinkes Y", "Bank X", "Cabang Bank X"):
        assert other not in page
    rows = "name,unit,group,phone\n" + "".join(
        f"Orang {i},{unit},internal,08121234{i:04d}\n"
        for i, unit in enumerate(("dinas-x", "UPTD X", "pemkot-y", "dinkes-y", "bank-x"))
    )
    record = services.import_frame(locus, "daftar.csv", rows.encode(), world.coordinator)
    assert record.refused
    assert [(p["row"], p["column"], p["code"]) for p in record.problems] == [
        (4, "B", "unit"),
        (5, "B", "unit"),
        (6, "B", "unit"),
    ]
    assert uptd.pk


def test_email_recipients_are_pointed_to_the_opt_out_button_not_told_to_reply(
    world: World, graph, django_capture_on_commit_callbacks
) -> None:
    """Replies to email are not read: an email telling people to reply STOP would keep
    reminding those who did. Email points to the button on the landing page instead."""
    from cegah.channels.providers import fake_email

    services.import_frame(world.locus, "f.csv", FRAME_CSV.encode(), world.coordinator)
    services.draw_sample(world.locus, world.coordinator, seed=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(world.locus, world.coordinator)
    [email] = fake_email.OUTBOX  # Andi has only an email address
    assert "BERHENTI" not in email.body
    assert "“Jangan kirimi saya pengingat lagi”" in email.body and "/spi/i/" in email.body
    texts = {}
    for inv in Invitation.objects.select_related("respondent", "locus__organisation"):
        contact = sealing.unseal_contact(inv.respondent.public_id, inv.respondent.contact_sealed)
        for reminder in (False, True):
            texts[(contact["name"], reminder)] = services._message(inv, contact, reminder).text
    for reminder in (False, True):
        assert "BERHENTI" not in texts[("Andi", reminder)]
        assert "Jangan kirimi saya pengingat lagi" in texts[("Andi", reminder)]
        # A phone only: reply by WhatsApp or SMS. Both: either way works.
        assert "Balas BERHENTI" in texts[("Budi Santoso", reminder)]
        assert "Jangan kirimi" not in texts[("Budi Santoso", reminder)]
        both = texts[("Sari Dewi", reminder)]
        assert "BERHENTI" in both and "Jangan kirimi saya pengingat lagi" in both


def test_people_added_after_the_draw_are_pointed_out_until_the_sample_is_drawn_again(
    world: World, client_for
) -> None:
    invited(world, 3)  # a list of 3, all drawn
    more = "name,unit,group,phone,email\n" + "".join(
        f"Baru {i},dinas-contoh,internal,08129999{i:04d},\n" for i in range(2)
    )
    services.import_frame(world.locus, "tambahan.csv", more.encode(), world.coordinator)
    client = client_for(world.coordinator)
    url = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/"
    page = client.get(url).content.decode()
    assert "2 orang ditambahkan ke daftar setelah sampel ini ditarik" in page
    assert "Tarik ulang" in page and "Kirim 3 undangan" in page
    # Drawn again, the new people are in the sample and the notice is gone.
    client.post(url + "sample/", {"seed": "7"})
    page = client.get(url).content.decode()
    assert "setelah sampel ini ditarik" not in page and "Kirim 5 undangan" in page
    # Once invitations are out, the sample is fixed: people added then will not be invited.
    Invitation.objects.update(sends=1)
    services.import_frame(
        world.locus,
        "lagi.csv",
        b"name,unit,group,phone,email\nTerakhir,dinas-contoh,internal,081277770000,\n",
        world.coordinator,
    )
    page = client.get(url).content.decode()
    assert "1 orang ditambahkan ke daftar setelah sampel ini ditarik" in page
    assert "tidak akan diundang" in page and "Tarik ulang" not in page
