"""The public report form: accessible markup, errors that can be found, one round of validation,
the default button, files that could not be kept, duplicates and rate limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from cegah.wbs.models import Report
from tests.wbs.conftest import form_token

VALID = {
    "category": "pemerasan",
    "description": "Petugas loket meminta uang Rp100.000 agar surat izin cepat keluar.",
    "party_count": "1",
}


def _post(client: Client, slug: str, **fields: object):  # type: ignore[no-untyped-def]
    fields.setdefault("submission", form_token(client, f"/lapor/{slug}/"))
    return client.post(f"/lapor/{slug}/", {**VALID, **fields})


def _tags(html: str) -> list[str]:
    return re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)


def _attr(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return match.group(1) if match else None


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def _assert_described_by_existing_ids(html: str) -> None:
    ids = _ids(html)
    pointers = [(tag, _attr(tag, "aria-describedby")) for tag in _tags(html)]
    pointers = [(tag, value) for tag, value in pointers if value]
    assert pointers
    missing = [(tag, ref) for tag, value in pointers for ref in value.split() if ref not in ids]
    assert missing == []


def test_help_texts_are_linked_to_their_fields(wbs) -> None:
    page = Client().get(f"/lapor/{wbs.org.slug}/").content.decode()
    _assert_described_by_existing_ids(page)
    description = next(t for t in _tags(page) if 'name="description"' in t)
    assert _attr(description, "aria-describedby") == "id_description_helptext"


def test_errors_are_linked_and_invalid_fields_marked(wbs) -> None:
    page = _post(
        Client(), wbs.org.slug, category="", identity_name="Siti", amount="banyak"
    ).content.decode()
    _assert_described_by_existing_ids(page)
    tags = {_attr(t, "name"): t for t in _tags(page)}
    for name in ("category", "amount", "consent"):
        assert _attr(tags[name], "aria-invalid") == "true", name
        assert f"id_{name}_error" in (_attr(tags[name], "aria-describedby") or "").split()
    assert _attr(tags["where"], "aria-invalid") is None
    assert not Report.objects.exists()


def test_consent_error_is_below_the_checkbox_not_beside_it(wbs) -> None:
    page = _post(Client(), wbs.org.slug, identity_name="Siti").content.decode()
    field = re.search(r'<div class="field has-error check">.*?</div>\s*</div>', page, re.DOTALL)
    assert field is not None
    row = re.search(r'<div class="check-row">(.*?)</div>', field.group(0), re.DOTALL)
    assert row is not None and 'name="consent"' in row.group(1)
    assert 'id="id_consent_error"' not in row.group(1)  # below the flex row, at full width
    assert 'id="id_consent_error"' in field.group(0)
    css = (Path(settings.BASE_DIR) / "cegah/static/cegah/cegah.css").read_text()
    assert ".field.check {" not in css.replace(".field.check .check-row {", "")


def test_every_error_shows_in_the_first_round(wbs) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("foto.jpg", b"MZ\x90\x00 not a photo", "image/jpeg")
    page = _post(
        Client(), wbs.org.slug, category="", description="Terlalu pendek", attachments=[fake]
    ).content.decode()
    assert 'id="id_category_error"' in page
    assert "minimal 20 karakter" in page  # the description's minimum, with the others
    assert 'id="id_attachments_error"' in page and "tidak diterima" in page
    assert not Report.objects.exists()


def test_description_help_states_the_minimum(wbs) -> None:
    page = Client().get(f"/lapor/{wbs.org.slug}/").content.decode()
    help_text = re.search(r'id="id_description_helptext">([^<]*)<', page)
    assert help_text is not None and "20 karakter" in help_text.group(1)
    assert 'minlength="20"' in page


def _summary(html: str) -> str:
    match = re.search(r'<div class="error-summary"[^>]*>.*?</div>', html, re.DOTALL)
    assert match is not None, "no error summary"
    return match.group(0)


def test_error_summary_at_the_top_links_to_each_invalid_field(wbs) -> None:
    page = _post(
        Client(), wbs.org.slug, category="", description="pendek", identity_name="Siti"
    ).content.decode()
    summary = _summary(page)
    assert page.index(summary) < page.index('name="category"')  # before the first field
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
    links = re.findall(r'<a href="#([^"]+)"', summary)
    assert links == ["id_category", "id_description", "id_consent"]
    assert all(f'id="{target}"' in page for target in links)
    assert "minimal 20 karakter" in summary


def test_adding_a_person_shows_no_errors_and_opens_at_the_new_row(wbs) -> None:
    page = Client().post(
        f"/lapor/{wbs.org.slug}/", {"party_count": "1", "add_party": "1", "party_0_name": "Budi"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="error-summary"' not in html and "has-error" not in html
    new_row = next(t for t in _tags(html) if 'name="party_1_name"' in t)
    assert "autofocus" in new_row
    assert 'value="Budi"' in html
    assert not Report.objects.exists()


def test_follow_up_reply_errors_are_summarised(wbs, submit) -> None:
    submitted = submit()
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    page = reporter.post("/lapor/pantau/laporan/", {"body": ""}).content.decode()
    assert re.findall(r'<a href="#([^"]+)"', _summary(page)) == ["id_body"]


def _first_submit_button(html: str) -> str:
    form = html[html.index('<form method="post" enctype="multipart/form-data"') :]
    return re.findall(r"<button\b[^>]*>[^<]*</button>", form)[0]


def test_enter_in_a_field_sends_the_report_not_add_a_person(wbs, handler_client) -> None:
    # Enter submits with the form's first submit button: it must be the send button.
    for page in (
        Client().get(f"/lapor/{wbs.org.slug}/").content.decode(),
        handler_client.get(f"/wbs/{wbs.org.slug}/intake/").content.decode(),
    ):
        default = _first_submit_button(page)
        assert 'type="submit"' in default and "name=" not in default
        assert 'tabindex="-1"' in default and 'aria-hidden="true"' in default
        assert page.index(default) < page.index('name="add_party"')
    # What the browser then sends (no add_party) files the report.
    assert _post(Client(), wbs.org.slug).status_code == 201


def _photo(name: str = "bukti-loket.png") -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.wbs.images import png_with_gps

    return SimpleUploadedFile(name, png_with_gps(), "image/png")


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "wbs"
    return list(root.rglob("*.bin")) if root.exists() else []


def test_files_of_a_form_that_comes_back_are_said_not_sent_and_not_stored(wbs) -> None:
    page = _post(
        Client(), wbs.org.slug, description="pendek", attachments=[_photo(), _photo("b.png")]
    ).content.decode()
    error = re.search(r'<div class="error" id="id_attachments_error">(.*?)</div>', page, re.DOTALL)
    assert error is not None
    assert "TIDAK terkirim" in error.group(1) and "bukti-loket.png, b.png" in error.group(1)
    assert "#id_attachments" in _summary(page)
    assert not Report.objects.exists() and _stored_files() == []


def test_adding_a_person_says_the_chosen_files_must_be_chosen_again(wbs) -> None:
    page = (
        Client()
        .post(
            f"/lapor/{wbs.org.slug}/",
            {"party_count": "1", "add_party": "1", "attachments": [_photo()]},
        )
        .content.decode()
    )
    assert "TIDAK terkirim" in page and "bukti-loket.png" in page
    assert _stored_files() == []


def test_receipt_and_follow_up_list_the_files_received(wbs) -> None:
    client = Client()
    response = _post(client, wbs.org.slug, attachments=[_photo()])
    assert response.status_code == 201
    size = Report.objects.get().attachments.get().size
    receipt_page = response.content.decode()
    assert "Berkas yang diterima" in receipt_page and "bukti-loket.png" in receipt_page
    from django.template.defaultfilters import filesizeformat

    assert str(filesizeformat(size)) in receipt_page
    receipt = re.search(r'class="receipt-code">([\d ]+)<', receipt_page).group(1)  # type: ignore[union-attr]
    client.post("/lapor/pantau/", {"receipt": receipt})
    followup = client.get("/lapor/pantau/laporan/").content.decode()
    assert "Berkas yang Anda kirim" in followup and "bukti-loket.png" in followup
    # A reply that comes back with an error says its files were not sent either.
    page = client.post(
        "/lapor/pantau/laporan/", {"body": "", "attachments": [_photo("kedua.png")]}
    ).content.decode()
    assert "TIDAK terkirim" in page and "kedua.png" in page
    assert len(_stored_files()) == 1


def test_posting_the_same_form_twice_files_one_report(wbs) -> None:
    from cegah.wbs.models import SubmissionClaim

    client = Client()
    token = form_token(client, f"/lapor/{wbs.org.slug}/")
    first = _post(client, wbs.org.slug, submission=token)
    assert first.status_code == 201
    # A reload of the receipt page (or a second tap) posts the same form again.
    again = _post(client, wbs.org.slug, submission=token)
    assert again.status_code == 409
    page = again.content.decode()
    assert "sudah terkirim" in page and "kode tanda terima yang ditampilkan pertama kali" in page
    assert not re.search(r"\d{4} \d{4} \d{4} \d{4}", page)  # no receipt, old or new
    assert Report.objects.count() == 1
    # Only a keyed hash of the token is kept, for as long as the token is valid.
    claim = SubmissionClaim.objects.get()
    raw = token.split(":")[0]
    assert raw not in claim.token_hash and token not in claim.token_hash
    assert len(claim.token_hash) == 64


def test_a_form_without_a_valid_token_is_not_sent_and_keeps_its_text(wbs) -> None:
    for token in ("", "forged:token:value"):
        response = _post(Client(), wbs.org.slug, submission=token, where="Kantor camat")
        page = response.content.decode()
        assert response.status_code == 200
        assert "tidak terkirim" in _summary(page)
        assert 'value="Kantor camat"' in page
        fresh = re.search(r'name="submission" value="([^"]+)"', page)
        assert fresh is not None and fresh.group(1) != token
    assert not Report.objects.exists()


def test_a_token_older_than_a_day_is_refused(wbs, monkeypatch) -> None:
    import time

    from django.core import signing

    client = Client()
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - 2 * 86400)
    token = form_token(client, f"/lapor/{wbs.org.slug}/")
    monkeypatch.setattr(signing.time, "time", lambda: now)
    response = _post(client, wbs.org.slug, submission=token)
    assert response.status_code == 200 and not Report.objects.exists()
    assert "lebih dari sehari" in _summary(response.content.decode())


def test_a_claimed_token_cannot_file_again_through_the_service(wbs) -> None:
    import pytest

    from cegah.wbs import services

    claim = services.submission_claim(services.new_submission_token())
    data = services.ReportInput(category="suap", description="Suap di loket perizinan kota.")
    services.submit_report(wbs.org, data, claim=claim)
    with pytest.raises(services.AlreadySubmitted):
        services.submit_report(wbs.org, data, claim=claim)
    assert Report.objects.count() == 1


def test_operator_double_submit_records_one_report(wbs, handler_client) -> None:
    token = form_token(handler_client, f"/wbs/{wbs.org.slug}/intake/")
    data = {
        "submission": token,
        "channel": "phone",
        "category": "suap",
        "party_count": "1",
        "description": "Penelepon melaporkan suap di kantor kelurahan setiap Senin.",
    }
    assert handler_client.post(f"/wbs/{wbs.org.slug}/intake/", data).status_code == 201
    again = handler_client.post(f"/wbs/{wbs.org.slug}/intake/", data)
    assert again.status_code == 302 and Report.objects.count() == 1


@pytest.fixture
def concurrent_writes() -> None:
    """Skip on SQLite, which runs one write transaction at a time: no race to lose."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("concurrent_writes")
def test_two_simultaneous_posts_of_one_form_file_one_report(wbs, monkeypatch) -> None:
    import threading

    from django.db import connection

    from cegah.wbs import hooks, services

    claim = services.submission_claim(services.new_submission_token())
    data = services.ReportInput(category="suap", description="Suap di loket perizinan kota.")
    inside = threading.Event()

    def hold(report, data):  # type: ignore[no-untyped-def]
        # The first post has claimed the token and holds its transaction open.
        inside.set()
        threading.Event().wait(0.5)

    monkeypatch.setattr(hooks, "INTAKE_HOOKS", [hold])
    monkeypatch.setattr(services, "INTAKE_HOOKS", [hold])
    outcomes: list[str] = []

    def post() -> None:
        try:
            services.submit_report(wbs.org, data, claim=claim)
            outcomes.append("filed")
        except services.AlreadySubmitted:
            outcomes.append("already")
        finally:
            connection.close()

    first = threading.Thread(target=post)
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=post)  # passed the early check: the claim is uncommitted
    second.start()
    first.join()
    second.join()
    assert sorted(outcomes) == ["already", "filed"]
    assert Report.objects.count() == 1


def test_posts_that_come_back_do_not_use_up_the_limit_of_reports(wbs) -> None:
    client = Client()
    for _ in range(25):  # errors fixed one by one, people added: more than the 20 of an hour
        assert _post(client, wbs.org.slug, description="pendek").status_code == 200
    assert _post(client, wbs.org.slug).status_code == 201


def test_the_limit_counts_reports_filed_and_keeps_the_text(wbs, monkeypatch) -> None:
    from cegah.wbs import ratelimits

    monkeypatch.setattr(ratelimits, "FILED_RATE", "2/h")
    client = Client()
    assert _post(client, wbs.org.slug).status_code == 201
    assert _post(client, wbs.org.slug).status_code == 201
    limited = _post(client, wbs.org.slug, where="Pasar Tugu", attachments=[_photo()])
    page = limited.content.decode()
    assert limited.status_code == 429
    assert Report.objects.count() == 2
    summary = _summary(page)
    assert re.search(r"tunggu sekitar \d+ menit", summary)
    assert 'value="Pasar Tugu"' in page and "Petugas loket meminta uang" in page
    assert "TIDAK terkirim" in page  # the chosen photo must be chosen again
    # Another connection is not held back.
    assert _post(Client(REMOTE_ADDR="198.51.100.7"), wbs.org.slug).status_code == 201


def test_a_flood_of_posts_is_held_back_with_the_text_kept(wbs, monkeypatch) -> None:
    from cegah.wbs import ratelimits

    monkeypatch.setattr(ratelimits, "POST_RATE", "3/h")
    client = Client()
    codes = [_post(client, wbs.org.slug, description="pendek").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    page = _post(client, wbs.org.slug, where="Pasar Tugu")
    assert page.status_code == 429 and not Report.objects.exists()
    assert 'value="Pasar Tugu"' in page.content.decode()
    assert "menit" in _summary(page.content.decode())


def test_rate_limit_keys_hold_no_address(wbs) -> None:
    from django.db import connection

    _post(Client(REMOTE_ADDR="203.0.113.99"), wbs.org.slug)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM cegah_cache")
        rows = cursor.fetchall()
    assert rows and "203.0.113.99" not in str(rows)


def test_reference_stays_on_one_line_and_the_file_input_is_a_tap_target(wbs, submit) -> None:
    submitted = submit()
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    page = reporter.get("/lapor/pantau/laporan/").content.decode()
    reference = submitted.report.reference
    assert f'<h1>Laporan Anda <span class="nowrap">{reference}</span></h1>' in page
    css = (Path(settings.BASE_DIR) / "cegah/static/cegah/cegah.css").read_text()
    assert re.search(r"\.nowrap \{ white-space: nowrap; \}", css)
    rule = re.search(r"input\[type=file\] \{([^}]*)\}", css)
    assert rule is not None and "min-height: 44px" in rule.group(1)


def test_error_summary_counts_only_fields_that_need_fixing(wbs, monkeypatch) -> None:
    from cegah.wbs import ratelimits

    # A stale form and a rate limit are not answers to fix: no count of answers is given.
    stale = _summary(_post(Client(), wbs.org.slug, submission="").content.decode())
    assert "tidak terkirim" in stale and "isian perlu diperbaiki" not in stale
    assert "Belum ada yang terkirim" in stale
    monkeypatch.setattr(ratelimits, "POST_RATE", "1/h")
    client = Client()
    _post(client, wbs.org.slug, description="pendek")
    limited = _summary(_post(client, wbs.org.slug).content.decode())
    assert "menit" in limited and "isian perlu diperbaiki" not in limited
    # With a chosen file, its input is the one field to see to; a real error counts as one.
    with_file = _summary(_post(client, wbs.org.slug, attachments=[_photo()]).content.decode())
    assert "1 isian perlu diperbaiki" in with_file
    monkeypatch.setattr(ratelimits, "POST_RATE", "300/h")
    two = _summary(
        _post(Client(), wbs.org.slug, category="", description="pendek").content.decode()
    )
    assert "2 isian perlu diperbaiki" in two
