"""Self-assessment, evidence and verification: the flow, the rules and who may see what."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cegah.core.models import AuditEntry
from cegah.monitoring import services
from cegah.monitoring.models import Answer, Assessment, Evidence
from cegah.monitoring.scores import period_standings

PDF = b"%PDF-1.4\n% test\n"


def fetch(client, url: str) -> int:
    """GET a download and read it to the end, which closes the file.

    The test client closes a streamed response once it is consumed, with the database connection
    kept; calling ``close()`` directly would close the test transaction's connection too.
    """
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def _fill_city(mcp, value=D(80)) -> Assessment:
    for key in (
        ("1", "1", "1"),
        ("1", "1", "2"),
        ("1", "2", "1"),
        ("2", "1", "1"),
        ("2", "1", "2"),
    ):
        services.save_answer(
            organisation=mcp.city,
            period=mcp.period,
            sub=mcp.sub(*key),
            actor=mcp.city_admin,
            value=value,
        )
        services.add_evidence_link(
            organisation=mcp.city,
            period=mcp.period,
            sub=mcp.sub(*key),
            url="https://jdih.example/sk",
            actor=mcp.city_admin,
        )
    return Assessment.objects.get(organisation=mcp.city, period=mcp.period)


def test_admin_uploads_evidence_and_verifier_adjusts_changing_score_and_zone(
    mcp, client_for
) -> None:
    city_client = client_for(mcp.city_admin)
    sub = mcp.sub("1", "1", "1")
    base = f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/"
    assert city_client.post(base, {"value": "100", "note": "SK ada"}).status_code == 302
    upload = SimpleUploadedFile("SK UKPBJ.pdf", PDF, content_type="application/pdf")
    assert (
        city_client.post(
            base + "evidence/", {"file-file": upload, "file-description": "SK"}
        ).status_code
        == 302
    )
    evidence = Evidence.objects.get(answer__sub_indicator=sub)
    assert evidence.original_name == "SK UKPBJ.pdf"
    assert "SK UKPBJ" not in evidence.file.name and evidence.file.name.startswith(
        "monitoring/evidence/"
    )
    assert fetch(city_client, f"/monitoring/evidence/{evidence.pk}/") == 200

    submit = f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/submit/"
    assert city_client.post(submit).status_code == 302
    assessment = Assessment.objects.get(organisation=mcp.city)
    assert assessment.status == Assessment.Status.SUBMITTED

    verifier = client_for(mcp.verifier)
    response = verifier.post(base + "verify/", {"verdict": "accepted"})
    assert response.status_code == 302
    [standing] = period_standings(mcp.period)
    # Only sub 1.1.1 verified at 100: 60 × (50 × 50% of UKPBJ) … = 60% × 25% = 15 → red
    assert standing.card.total == D(15) and standing.card.zone == "red"

    verifier.post(
        base + "verify/",
        {"verdict": "adjusted", "verified_value": "40", "note": "SK belum ditandatangani"},
    )
    answer = Answer.objects.get(assessment=assessment, sub_indicator=sub)
    assert answer.verdict == "adjusted" and answer.verified_value == D(40) and answer.gap == D(60)
    [standing] = period_standings(mcp.period)
    assert standing.card.total == D(6) and standing.card.self_total == D(15)

    actions = set(AuditEntry.objects.filter(organisation=mcp.city).values_list("action", flat=True))
    assert {
        "monitoring.answer.saved",
        "monitoring.evidence.added",
        "monitoring.assessment.submitted",
        "monitoring.answer.verified",
    } <= actions


def test_verification_moves_the_zone(mcp) -> None:
    assessment = _fill_city(mcp, D(80))
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    for answer in assessment.answers.all():
        services.verify_answer(answer=answer, actor=mcp.verifier, verdict="accepted")
    [standing] = period_standings(mcp.period)
    assert standing.card.total == D(80) and standing.card.zone == "green"
    answer = assessment.answers.get(sub_indicator=mcp.sub("1", "2", "1"))
    services.verify_answer(
        answer=answer, actor=mcp.verifier, verdict="rejected", note="Tidak ada RUP"
    )
    [standing] = period_standings(mcp.period)
    # RUP is 50% of Pengadaan, which is 60% of the total: 80 − 0.3 × 80 = 56 → blue
    assert standing.card.total == D(56) and standing.card.zone == "blue"


def test_adjust_and_reject_need_a_note_and_accept_needs_a_value(mcp) -> None:
    assessment = _fill_city(mcp)
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    answer = assessment.answers.first()
    with pytest.raises(ValidationError):
        services.verify_answer(
            answer=answer, actor=mcp.verifier, verdict="adjusted", verified_value=D(10)
        )
    with pytest.raises(ValidationError):
        services.verify_answer(answer=answer, actor=mcp.verifier, verdict="rejected")


def test_submit_refuses_values_without_evidence_unless_document_pending(mcp) -> None:
    sub = mcp.sub("1", "1", "1")
    services.save_answer(
        organisation=mcp.city, period=mcp.period, sub=sub, actor=mcp.city_admin, value=D(50)
    )
    assessment = Assessment.objects.get(organisation=mcp.city)
    with pytest.raises(ValidationError, match="1"):
        services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    services.save_answer(
        organisation=mcp.city,
        period=mcp.period,
        sub=sub,
        actor=mcp.city_admin,
        value=D(50),
        pending_document=True,
    )
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SUBMITTED


def test_return_and_resubmit_sends_changed_answers_back_for_verification(mcp) -> None:
    assessment = _fill_city(mcp)
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    sub = mcp.sub("1", "1", "1")
    answer = assessment.answers.get(sub_indicator=sub)
    services.verify_answer(
        answer=answer, actor=mcp.verifier, verdict="rejected", note="Belum final"
    )
    with pytest.raises(ValidationError):
        services.save_answer(
            organisation=mcp.city, period=mcp.period, sub=sub, actor=mcp.city_admin, value=D(90)
        )
    services.return_assessment(assessment=assessment, actor=mcp.verifier)
    services.save_answer(
        organisation=mcp.city,
        period=mcp.period,
        sub=sub,
        actor=mcp.city_admin,
        value=D(90),
        response="SK final diunggah",
    )
    answer.refresh_from_db()
    assert answer.verdict == "" and answer.verified_value == 0 and answer.response
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    with pytest.raises(ValidationError):
        services.complete_verification(assessment=assessment, actor=mcp.verifier)
    for a in assessment.answers.all():
        services.verify_answer(answer=a, actor=mcp.verifier, verdict="accepted")
    services.complete_verification(assessment=assessment, actor=mcp.verifier)
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.VERIFIED


@pytest.mark.parametrize(
    ("name", "content", "size_hint"),
    [
        ("virus.pdf", b"MZ\x90\x00 not a pdf", None),
        ("script.html", b"<script>", None),
        ("empty.pdf", b"", None),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), None),
    ],
)
def test_refused_uploads_store_nothing(
    mcp, client_for, media_root, name, content, size_hint
) -> None:
    sub = mcp.sub("1", "1", "1")
    url = f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/evidence/"
    response = client_for(mcp.city_admin).post(
        url, {"file-file": SimpleUploadedFile(name, content)}, follow=True
    )
    assert not Evidence.objects.exists()
    assert "Bukti ditambahkan" not in response.content.decode()
    assert not (media_root / "monitoring" / "evidence").exists() or not any(
        (media_root / "monitoring" / "evidence").iterdir()
    )


def test_another_kab_kota_cannot_see_drafts_or_evidence(mcp, client_for) -> None:
    assessment = _fill_city(mcp)
    sub = mcp.sub("1", "1", "1")
    upload = SimpleUploadedFile("sk.pdf", PDF)
    evidence = services.add_evidence_file(
        organisation=mcp.city, period=mcp.period, sub=sub, upload=upload, actor=mcp.city_admin
    )
    other = client_for(mcp.regency_admin)
    for url in (
        f"/monitoring/{mcp.city.slug}/",
        f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/",
        f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/",
        f"/monitoring/evidence/{evidence.pk}/",
        f"/monitoring/{mcp.city.slug}/tepra/",
        f"/monitoring/{mcp.city.slug}/recommendations/",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/monitoring/evidence/{evidence.pk}/remove/").status_code == 404
    # The supervisor does not see the draft either, until it is submitted.
    kpk = client_for(mcp.verifier)
    assert fetch(kpk, f"/monitoring/evidence/{evidence.pk}/") == 404
    page = kpk.get(f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/")
    assert page.status_code == 200 and b"sk.pdf" not in page.content
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    assert fetch(kpk, f"/monitoring/evidence/{evidence.pk}/") == 200
    # A viewer of the supervisor reads but cannot verify.
    viewer = client_for(mcp.kpk_viewer)
    assert (
        viewer.post(
            f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/verify/",
            {"verdict": "accepted"},
        ).status_code
        == 404
    )


def test_evidence_is_served_as_an_attachment(mcp, client_for) -> None:
    sub = mcp.sub("1", "1", "1")
    evidence = services.add_evidence_file(
        organisation=mcp.city,
        period=mcp.period,
        sub=sub,
        upload=SimpleUploadedFile("a.pdf", PDF),
        actor=mcp.city_admin,
    )
    response = client_for(mcp.city_admin).get(f"/monitoring/evidence/{evidence.pk}/")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def _verified_and_returned(mcp) -> tuple[Assessment, Answer]:
    assessment = _fill_city(mcp)
    services.add_evidence_link(  # a second piece, so that one can be removed
        organisation=mcp.city,
        period=mcp.period,
        sub=mcp.sub("1", "1", "1"),
        url="https://jdih.example/sk-lampiran",
        actor=mcp.city_admin,
    )
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    for answer in assessment.answers.all():
        services.verify_answer(answer=answer, actor=mcp.verifier, verdict="accepted")
    services.return_assessment(assessment=assessment, actor=mcp.verifier)
    return assessment, assessment.answers.get(sub_indicator=mcp.sub("1", "1", "1"))


@pytest.mark.parametrize("change", ["file", "link", "remove"])
def test_changed_evidence_sends_the_answer_back_and_blocks_finishing(mcp, change) -> None:
    assessment, answer = _verified_and_returned(mcp)
    sub = mcp.sub("1", "1", "1")
    if change == "file":
        services.add_evidence_file(
            organisation=mcp.city,
            period=mcp.period,
            sub=sub,
            upload=SimpleUploadedFile("sk-baru.pdf", PDF),
            actor=mcp.city_admin,
        )
    elif change == "link":
        services.add_evidence_link(
            organisation=mcp.city,
            period=mcp.period,
            sub=sub,
            url="https://jdih.example/sk-baru",
            actor=mcp.city_admin,
        )
    else:
        services.remove_evidence(evidence=answer.evidence.last(), actor=mcp.city_admin)
    answer.refresh_from_db()
    assert answer.verdict == "" and answer.verified_value == D(80)  # in force until reviewed
    entry = AuditEntry.objects.filter(action__startswith="monitoring.evidence.").latest("id")
    assert entry.details["reopened"] is True
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    with pytest.raises(ValidationError, match=r"1\.1\.1"):
        services.complete_verification(assessment=assessment, actor=mcp.verifier)
    services.verify_answer(answer=answer, actor=mcp.verifier, verdict="accepted")
    services.complete_verification(assessment=assessment, actor=mcp.verifier)


def test_an_answer_emptied_after_its_verdict_must_be_reviewed_before_finishing(mcp) -> None:
    assessment, answer = _verified_and_returned(mcp)
    services.save_answer(
        organisation=mcp.city,
        period=mcp.period,
        sub=mcp.sub("1", "1", "1"),
        actor=mcp.city_admin,
        value=None,
        response="Nilai ditarik, dokumen belum sah",
    )
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    with pytest.raises(ValidationError, match=r"1\.1\.1"):
        services.complete_verification(assessment=assessment, actor=mcp.verifier)
    services.verify_answer(answer=answer, actor=mcp.verifier, verdict="rejected", note="Ditarik")
    services.complete_verification(assessment=assessment, actor=mcp.verifier)


def test_a_new_verdict_starts_with_an_empty_note(mcp, client_for) -> None:
    import re

    assessment = _fill_city(mcp)
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    sub = mcp.sub("1", "1", "1")
    answer = assessment.answers.get(sub_indicator=sub)
    old_note = "Bukti hanya mendukung sebagian nilai yang dilaporkan."
    services.verify_answer(
        answer=answer, actor=mcp.verifier, verdict="adjusted", verified_value=D(50), note=old_note
    )
    verifier = client_for(mcp.verifier)
    url = f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/"
    page = verifier.get(url).content.decode()
    [textarea] = re.findall(r'<textarea name="note"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert textarea.strip() == "" and old_note in page  # shown as the current note, not prefilled
    verifier.post(url + "verify/", {"verdict": "accepted"})
    answer.refresh_from_db()
    assert (answer.verdict, answer.verifier_note) == ("accepted", "")


def test_a_file_just_over_the_limit_is_refused_with_sizes_that_differ() -> None:
    from django.utils import translation

    from cegah.monitoring.uploads import check_upload

    upload = SimpleUploadedFile("sk.pdf", PDF + b"0" * (1025 - len(PDF)))
    with translation.override("id"), pytest.raises(ValidationError) as exc:
        check_upload(upload, max_bytes=1024)
    [message] = exc.value.messages
    assert "1.025" in message and "1.024" in message, message
    with pytest.raises(ValidationError) as exc:
        check_upload(SimpleUploadedFile("sk.pdf", PDF + b"0" * 4000), max_bytes=1024)
    assert "1.024" not in exc.value.messages[0]  # 3.9 KB against 1.0 KB differ already


def test_the_evidence_input_says_what_it_takes_before_uploading(mcp, client_for) -> None:
    import re

    sub = mcp.sub("1", "1", "1")
    page = (
        client_for(mcp.city_admin)
        .get(f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/")
        .content.decode()
    )
    [tag] = re.findall(r'<input type="file"[^>]*>', page)
    assert 'accept=".pdf,.png,.jpg,.jpeg,.xlsx,.docx"' in tag
    assert 'data-max-bytes="10485760"' in tag and "data-too-large=" in tag
    assert "paling besar 10,0\xa0MB" in page
    assert re.search(
        r'<script src="/static/monitoring/upload-limit\.js" defer nonce="[^"]+">', page
    )


def test_a_link_is_added_as_evidence_from_its_own_form(mcp, client_for) -> None:
    sub = mcp.sub("1", "1", "1")
    url = f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/evidence/"
    response = client_for(mcp.city_admin).post(
        url, {"link-url": "https://jdih.example/sk", "link-description": "SK di JDIH"}
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.kind, evidence.url, evidence.description) == (
        "link",
        "https://jdih.example/sk",
        "SK di JDIH",
    )
