"""The respondent's path: GET never consumes, POSTs start and submit, skip logic server-side,
one response per token, and the stored response cannot be joined to a person."""

from __future__ import annotations

import pytest
from django.db import models
from django.test import Client

from cegah.survey import services
from cegah.survey.models import Draft, Invitation, PendingResponse, Response
from tests.survey.web import World, invited, page_number

pytestmark = pytest.mark.django_db

INTERNAL = {
    "masa_kerja": "6_15",
    "terlibat_pbj": "tidak",
    **{f"tr{i}": "3" for i in (1, 2, 3)},
    **{f"sdm{i}": "2" for i in (1, 2, 3)},
    **{f"ang{i}": "1" for i in (1, 2, 3)},
    **{f"int{i}": "4" for i in (1, 2, 3, 4)},
    **{f"pgh{i}": "2" for i in (1, 2, 3)},
    **{f"pbj{i}": "3" for i in (1, 2, 3)},
    **{f"sos{i}": "3" for i in (1, 2, 3)},
}


def answer_all(client: Client, token: str, answers: dict[str, str]) -> Client:
    assert client.post(f"/spi/i/{token}/mulai/").status_code == 302
    for _step in range(30):
        page = client.get(f"/spi/i/{token}/isi/").content.decode()
        if 'name="action" value="submit"' in page:
            action = "submit"
        else:
            action = "next"
        names = set()
        for value in answers:
            if f'name="{value}"' in page:
                names.add(value)
        data = {k: answers[k] for k in names} | {"action": action, "page": page_number(page)}
        response = client.post(f"/spi/i/{token}/isi/", data)
        if action == "submit":
            assert response.status_code == 200, response.content[:400]
            return client
        assert response.status_code == 302, response.content[:2000]
    raise AssertionError("never reached the last page")


def test_get_opens_but_never_consumes(world: World) -> None:
    (inv, token), *_ = invited(world, 1)
    client = Client()
    for _ in range(3):
        response = client.get(f"/spi/i/{token}/")
        assert response.status_code == 200
        assert b"Integritas" in response.content or b"Integrity" in response.content
    inv.refresh_from_db()
    assert inv.opened and not inv.started and not inv.completed
    assert response["Cache-Control"].startswith("no-store")
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/spi/i/{token}/isi/").status_code == 302  # not started: back to landing
    assert Client().get("/spi/i/not-a-token/").status_code == 404


def test_answering_on_a_phone_skips_irrelevant_pages_and_submits_once(world: World) -> None:
    (inv, token), *_ = invited(world, 1)
    client = answer_all(Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)"), token, INTERNAL)
    inv.refresh_from_db()
    assert inv.completed and not Draft.objects.exists()
    services.flush_responses(world.edition.pk, force=True)
    stored = Response.objects.get()
    # terlibat_pbj = 'tidak' makes the procurement group irrelevant: its answers are never kept.
    assert "pbj1" not in stored.answers and stored.answers["tr1"] == "3"
    assert stored.submitted_on and stored.duration_s is not None
    # A second submission (another tab, a replay) stores nothing.
    again = client.post(f"/spi/i/{token}/isi/", {"action": "submit"})
    assert again.status_code == 200
    assert Response.objects.count() == 1 and not PendingResponse.objects.exists()
    assert not services.submit(inv, token, "x")


def test_required_answers_are_asked_for_again(world: World) -> None:
    (_inv, token), *_ = invited(world, 1)
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    response = client.post(f"/spi/i/{token}/isi/", {"action": "next", "page": "0"})
    assert response.status_code == 422
    assert b'role="alert"' in response.content


def test_progress_is_saved_per_page_and_unreadable_without_the_link(world: World) -> None:
    (inv, token), *_ = invited(world, 1)
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    client.post(
        f"/spi/i/{token}/isi/",
        {"masa_kerja": "1_5", "terlibat_pbj": "ya", "action": "next", "page": "0"},
    )
    draft = Draft.objects.get(invitation=inv)
    assert draft.page == 1
    assert b"1_5" not in bytes(draft.answers_sealed)
    assert services.draft_answers(draft, token)["terlibat_pbj"] == "ya"
    # Resuming later on another device continues where it stopped.
    page = Client().get(f"/spi/i/{token}/isi/")
    assert b'name="tr1"' in page.content


def test_opt_out_is_a_post(world: World) -> None:
    (inv, token), *_ = invited(world, 1)
    assert Client().get(f"/spi/i/{token}/berhenti/").status_code == 405
    assert Client().post(f"/spi/i/{token}/berhenti/").status_code == 200
    inv.refresh_from_db()
    assert inv.opted_out


def test_a_response_cannot_be_joined_to_a_respondent(world: World) -> None:
    from django.apps import apps
    from django.utils import timezone

    pairs = invited(world, 12)
    began = timezone.now()
    for inv, token in pairs:
        services.start(inv, token)
        draft = Draft.objects.get(invitation=inv)
        services.save_page(
            draft, token, {"masa_kerja": "1_5", "terlibat_pbj": "tidak", "tr1": "2"}, 9
        )
        assert services.submit(inv, token, f"device-{inv.pk}")
    pooled = {str(pk) for pk in PendingResponse.objects.values_list("pk", flat=True)}
    services.flush_responses(world.edition.pk, force=True)
    # 1. No column of a response refers to the frame, the invitation, the token or a time.
    fields = {f.name: f for f in Response._meta.get_fields() if f.concrete}
    assert set(fields) == {
        "id",
        "edition",
        "locus",
        "unit",
        "group",
        "self_registered",
        "answers",
        "duration_s",
        "submitted_on",
        "flags",
        "review",
    }
    targets = {f.related_model._meta.label for f in fields.values() if f.is_relation}  # type: ignore[union-attr]
    assert targets == {"survey.Edition", "survey.Locus", "orgs.Organisation"}
    assert not any(isinstance(f, models.DateTimeField) for f in fields.values())
    assert isinstance(fields["id"], models.UUIDField)
    # 2. Nothing of an invitation appears in any response row.
    secrets = set()
    for inv, token in pairs:
        # Only long identifiers: a short number such as a primary key can match by chance inside
        # a UUID or an answer (the columns checked above already rule out a key to invitations).
        secrets |= {token, inv.nonce, inv.token_hash, str(inv.respondent.public_id)}
    for row in Response.objects.values():
        flat = " ".join(str(v) for v in row.values())
        assert not any(s in flat for s in secrets if len(s) >= 16)
    # 3. Within a unit and group all responses look alike: no order, no time, no id to match.
    assert Response.objects.values("unit", "group", "submitted_on").distinct().count() == 1
    # 4. The pool is gone once moved, and its row ids (written in the transaction that
    # completed the invitation) are not the responses' ids.
    assert not PendingResponse.objects.exists() and not Draft.objects.exists()
    stored = {str(pk) for pk in Response.objects.values_list("pk", flat=True)}
    assert len(stored) == 12 and not stored & pooled
    # 5. No other stored row names a response or keeps the time of a submission.
    for model in apps.get_app_config("survey").get_models():
        if model is Response:
            continue
        times = [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
        for row in model.objects.values():
            flat = " ".join(str(v) for v in row.values())
            assert not any(pk in flat for pk in stored), model
            assert not any(row[t] and row[t] >= began for t in times), (model, times)
    assert Invitation.objects.filter(completed=True).count() == 12
    # 6. PostgreSQL: no response row was written in the transaction of an invitation's
    # completion (same xmin), or in the same one as another table's row.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT xmin::text FROM survey_response")
            written = {x for (x,) in cursor.fetchall()}
            cursor.execute("SELECT DISTINCT xmin::text FROM survey_invitation")
            assert not written & {x for (x,) in cursor.fetchall()}


def test_the_pool_waits_for_a_batch(world: World) -> None:
    pairs = invited(world, 3)
    for inv, token in pairs:
        services.start(inv, token)
        assert services.submit(inv, token, "")
    assert services.flush_responses(world.edition.pk) == 0
    assert PendingResponse.objects.count() == 3 and not Response.objects.exists()
    assert services.flush_responses(world.edition.pk, force=True) == 3


def test_bursts_from_one_device_are_flagged_without_storing_the_address(world: World) -> None:
    pairs = invited(world, 6)
    for inv, token in pairs:
        services.start(inv, token)
        client = Client(REMOTE_ADDR="10.9.8.7")
        client.cookies["spi_dev"] = "same-device"
        client.post(
            f"/spi/i/{token}/isi/",
            {"masa_kerja": "1_5", "terlibat_pbj": "tidak", "action": "next", "page": "0"},
        )
    for inv, token in pairs:
        services.submit(inv, token, services.sealing.keyed_hash("device", "c:same-device"))
    services.flush_responses(world.edition.pk, force=True)
    assert all("burst" in r.flags for r in Response.objects.all())
    for model in (Response, Invitation):
        for row in model.objects.values():
            assert "10.9.8.7" not in str(row)


def test_a_burst_is_found_when_the_pool_moves_even_if_it_spans_two_moves(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool keeps a device's hash and the time only until the device has been quiet for
    the burst window; then the burst check runs on the pool and only the flag is kept."""
    from datetime import timedelta

    from django.utils import timezone

    monkeypatch.setattr(services, "MIX_BATCH", 5)
    pairs = invited(world, 15)
    base = timezone.now()

    def submit(pair: tuple[Invitation, str], device: str, minute: int) -> None:
        inv, token = pair
        services.start(inv, token)
        assert services.submit(inv, token, device)
        PendingResponse.objects.filter(fingerprint=device, submitted_at__gt=base).update(
            submitted_at=base + timedelta(minutes=minute)
        )

    for minute, pair in zip((0, 2, 4), pairs[:3], strict=True):
        submit(pair, "device-a", minute)
    for i, pair in enumerate(pairs[5:]):
        submit(pair, f"device-{i}", 0)
    # Ten quiet devices can go; device a could still be in a burst, so it waits.
    assert services.flush_responses(world.edition.pk, now=base + timedelta(minutes=5)) == 0
    assert services.flush_responses(world.edition.pk, now=base + timedelta(minutes=11)) == 10
    assert PendingResponse.objects.count() == 3
    for minute, pair in zip((8, 9), pairs[3:5], strict=True):
        submit(pair, "device-a", minute)
    assert services.flush_responses(world.edition.pk, now=base + timedelta(minutes=15)) == 0
    assert services.flush_responses(world.edition.pk, now=base + timedelta(minutes=20)) == 5
    flagged = sorted("burst" in r.flags for r in Response.objects.all())
    assert flagged == [False] * 10 + [True] * 5
    assert Response.objects.filter(review="flagged").count() == 5


# --- pages: same-page skip logic, stale posts, races ----------------------------------------------
# The answers that make every follow-up question of the default questionnaires relevant.
OPENING = {"terlibat_pbj": "ya", "jenis_pengguna": "penyedia", "x_kenal_pbj": "ya"}


def _chooser(group: str):  # type: ignore[no-untyped-def]
    from cegah.survey import runtime
    from cegah.survey.models import Questionnaire
    from cegah.survey.scoring import default_questionnaire_path, load_questionnaire

    questionnaire = load_questionnaire(default_questionnaire_path(group), group)
    by_name = {q.name: q for q in questionnaire.questions}
    assert Questionnaire  # the edition's questionnaires are these defaults

    def choose(name: str) -> str:
        if name in OPENING:
            return OPENING[name]
        q = by_name[name]
        if runtime.base_type(q) in ("select_one", "select_multiple"):
            return q.choices[-1].name
        return "catatan"

    return questionnaire, choose


@pytest.mark.parametrize("group", ["internal", "external", "expert"])
def test_every_follow_up_question_is_asked_without_javascript(world: World, group: str) -> None:
    """A question made relevant by an answer on its own page (the expert's procurement items
    follow x_kenal_pbj on one page) is shown before the respondent moves on, and answered."""
    from cegah.survey import runtime
    from tests.survey.web import answer_on_the_web

    questionnaire, choose = _chooser(group)
    (inv, token), *_ = invited(world, 1, group)
    answer_on_the_web(Client(), token, choose)
    inv.refresh_from_db()
    assert inv.completed
    services.flush_responses(world.edition.pk, force=True)
    stored = Response.objects.get().answers
    unanswered = [
        q.name
        for q in questionnaire.questions
        if runtime.base_type(q) != "note"
        and runtime.is_relevant(q, stored)
        and not stored.get(q.name)
    ]
    assert unanswered == []


def test_answers_that_open_questions_on_the_same_page_show_that_page_again(world: World) -> None:
    from tests.survey.web import fields_on, page_number

    (inv, token), *_ = invited(world, 1, "expert")
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    first = client.get(f"/spi/i/{token}/isi/").content.decode()
    data = {name: "3" for name in fields_on(first) if name != "jenis_eksper"}
    client.post(
        f"/spi/i/{token}/isi/",
        data | {"jenis_eksper": "lsm", "action": "next", "page": page_number(first)},
    )
    second = client.get(f"/spi/i/{token}/isi/").content.decode()
    assert "x_kenal_pbj" in fields_on(second) and "x_pbj1" not in fields_on(second)
    number = page_number(second)
    shown = client.post(
        f"/spi/i/{token}/isi/",
        {"x_kenal_pbj": "ya", "x_sos1": "4", "action": "next", "page": number},
    )
    # Not an error and not the next part: the same part again, with the follow-up questions.
    assert shown.status_code == 200
    html = shown.content.decode()
    assert fields_on(html)[:3] == ["x_kenal_pbj", "x_pbj1", "x_pbj2"]
    assert page_number(html) == number and 'role="alert"' not in html
    assert 'value="ya" checked' in html and 'name="x_sos1" value="4" checked' in html
    draft = Draft.objects.get(invitation=inv)
    assert draft.page == int(number)
    client.post(
        f"/spi/i/{token}/isi/",
        {"x_kenal_pbj": "ya", "x_pbj1": "2", "x_pbj2": "5", "x_sos1": "4", "action": "submit"}
        | {"page": number},
    )
    inv.refresh_from_db()
    assert inv.completed
    services.flush_responses(world.edition.pk, force=True)
    stored = Response.objects.get().answers
    assert (stored["x_kenal_pbj"], stored["x_pbj1"], stored["x_pbj2"]) == ("ya", "2", "5")


def test_a_repeated_post_is_not_applied_to_the_next_part(world: World) -> None:
    """A double tap on "Next" on a slow connection, an old tab or the back button: the second
    POST names the part it was for, which is no longer the current one, so nothing is applied."""
    (inv, token), *_ = invited(world, 1)
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    url = f"/spi/i/{token}/isi/"
    first = client.get(url).content.decode()
    assert 'name="page" value="0"' in first
    tap = {"masa_kerja": "1_5", "terlibat_pbj": "tidak", "action": "next", "page": "0"}
    assert client.post(url, tap).status_code == 302
    again = client.post(url, tap)
    assert again.status_code == 302 and again["Location"] == url
    draft = Draft.objects.get(invitation=inv)
    assert draft.page == 1
    assert set(services.draft_answers(draft, token)) == {"masa_kerja", "terlibat_pbj"}
    # A form without a page number (a page saved before this change) is not applied either.
    assert client.post(url, {"action": "next"}).status_code == 302
    draft.refresh_from_db()
    assert draft.page == 1
    page = client.get(url).content.decode()
    assert 'name="tr1"' in page and 'name="page" value="1"' in page
    # "Back" tapped twice goes back one part, not two.
    back = {"action": "back", "page": "1"}
    assert client.post(url, back).status_code == 302
    assert client.post(url, back).status_code == 302
    draft.refresh_from_db()
    assert draft.page == 0


def test_a_submit_that_loses_the_race_sees_the_thank_you_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two near-simultaneous submits: the winner deletes the draft that the loser had read."""
    from cegah.survey import public_views, runtime

    (inv, token), *_ = invited(world, 1)
    services.start(inv, token)
    draft = Draft.objects.get(invitation=inv)
    services.save_page(draft, token, dict(INTERNAL), 99)
    pages = runtime.pages(services.questionnaire_for(inv))
    real = services.draft_answers
    raced = []

    def read_then_lose(draft: Draft, token: str) -> dict[str, object]:
        answers = real(draft, token)
        if not raced:
            raced.append(True)
            assert services.submit(inv, token, "")  # the other request wins meanwhile
        return answers

    monkeypatch.setattr(public_views.services, "draft_answers", read_then_lose)
    response = Client().post(
        f"/spi/i/{token}/isi/",
        {"sos1": "3", "sos2": "3", "sos3": "3", "action": "submit", "page": str(len(pages) - 1)},
    )
    assert response.status_code == 200
    assert "Terima kasih" in response.content.decode()
    assert PendingResponse.objects.count() == 1 and not Draft.objects.exists()


def test_a_closed_edition_takes_no_more_answers(world: World) -> None:
    """A respondent who had started before the coordinator closed the edition can neither see
    the questions nor submit; nothing is stored and the invitation stays open."""
    (inv, token), *_ = invited(world, 1)
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    from cegah.survey.models import Edition

    Edition.objects.filter(pk=world.edition.pk).update(status=Edition.Status.CLOSED)
    page = client.get(f"/spi/i/{token}/isi/")
    assert page.status_code == 200
    assert 'name="masa_kerja"' not in page.content.decode()
    assert "tidak dibuka" in page.content.decode()
    draft = Draft.objects.get(invitation=inv)
    services.save_page(draft, token, dict(INTERNAL), 99)
    refused = client.post(f"/spi/i/{token}/isi/", {"action": "submit", "page": "7"})
    assert refused.status_code == 409 and "Terima kasih" not in refused.content.decode()
    from django.core.exceptions import ValidationError

    inv.refresh_from_db()
    with pytest.raises(ValidationError):
        services.submit(inv, token, "")
    inv.refresh_from_db()
    assert not inv.completed and not PendingResponse.objects.exists()
    assert services.draft_answers(Draft.objects.get(invitation=inv), token)["tr1"] == "3"


def test_after_opting_out_the_landing_page_says_so(world: World) -> None:
    (_inv, token), *_ = invited(world, 1)
    client = Client()
    before = client.get(f"/spi/i/{token}/").content.decode()
    assert f"/spi/i/{token}/berhenti/" in before
    assert client.post(f"/spi/i/{token}/berhenti/").status_code == 200
    after = client.get(f"/spi/i/{token}/").content.decode()
    assert "Anda sudah meminta agar tidak dikirimi pengingat lagi" in after
    assert f"/spi/i/{token}/berhenti/" not in after  # not offered a second time
    assert f"/spi/i/{token}/mulai/" in after  # and can still answer


def test_questions_are_asked_in_the_readers_language_where_the_form_has_it(world: World) -> None:
    (_inv, token), *_ = invited(world, 1)
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    indonesian = client.get(f"/spi/i/{token}/isi/").content.decode()
    assert "Berapa lama Anda bekerja di instansi ini?" in indonesian and "1–5 tahun" in indonesian
    client.cookies["django_language"] = "en"
    english = client.get(f"/spi/i/{token}/isi/").content.decode()
    assert "How long have you worked at this institution?" in english
    assert "1–5 years" in english and "Berapa lama" not in english


def _default_button(html: str) -> str:
    """The form's first submit button: the one Enter in a field (a phone keyboard's Go) uses."""
    import re

    form = html[html.rindex("<form", 0, html.index('name="page"')) :]
    match = re.search(r"<button[^>]*>", form)
    assert match is not None
    return match.group(0)


def test_enter_on_an_answer_goes_forward_not_back(world: World) -> None:
    (_inv, token), *_ = invited(world, 1)
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    url = f"/spi/i/{token}/isi/"
    first = client.get(url).content.decode()
    assert 'value="next"' in _default_button(first)
    client.post(url, {"masa_kerja": "1_5", "terlibat_pbj": "tidak", "action": "next", "page": "0"})
    second = client.get(url).content.decode()
    assert 'value="back"' in second  # "Back" is there, but not first
    default = _default_button(second)
    assert 'value="next"' in default
    # A copy for Enter only: out of the tab order and hidden from screen readers.
    assert 'class="visually-hidden"' in default and 'tabindex="-1"' in default
    assert 'aria-hidden="true"' in default
    for _step in range(20):
        page = client.get(url).content.decode()
        if 'value="submit"' in page:
            break
        client.post(url, {"action": "next", "page": page_number(page)} | INTERNAL)
    assert 'value="submit"' in _default_button(page)


def test_errors_and_new_questions_are_told_to_screen_readers(world: World) -> None:
    import re

    from tests.survey.web import fields_on

    (_inv, token), *_ = invited(world, 1, "expert")
    client = Client()
    client.post(f"/spi/i/{token}/mulai/")
    url = f"/spi/i/{token}/isi/"
    html = client.post(url, {"action": "next", "page": "0"}).content.decode()
    assert not re.search(r"<fieldset[^>]*aria-invalid", html)  # not supported on fieldset
    radios = re.findall(r'<input type="radio" name="jenis_eksper"[^>]*>', html)
    assert radios and all('aria-invalid="true"' in r for r in radios)
    described = {re.search(r'aria-describedby="([^"]+)"', r).group(1) for r in radios}  # type: ignore[union-attr]
    assert described == {"q-jenis_eksper-error"}
    assert re.search(r'<p class="error" id="q-jenis_eksper-error">Jawaban diperlukan', html)
    # The procurement items appear after "do you follow its procurement?": their legends say
    # they are new, in words, not only by a border.
    first = client.get(url).content.decode()
    data = {name: "3" for name in fields_on(first) if name != "jenis_eksper"}
    client.post(url, data | {"jenis_eksper": "lsm", "action": "next", "page": page_number(first)})
    second = client.get(url).content.decode()
    assert "Pertanyaan baru" not in second
    shown = client.post(
        url, {"x_kenal_pbj": "ya", "action": "next", "page": page_number(second)}
    ).content.decode()
    legends = re.findall(r"<legend>(.*?)</legend>", shown, re.DOTALL)
    assert len([legend for legend in legends if "Pertanyaan baru" in legend]) == 2
    assert "Pertanyaan baru" not in legends[0]  # x_kenal_pbj was there before
