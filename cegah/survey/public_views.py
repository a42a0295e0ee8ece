"""The respondent's pages: the invitation link, the questionnaire page by page, opt-out, and
self-registration at a service counter.

A GET never consumes anything (chat apps prefetch links): starting, saving a page, submitting
and opting out are POSTs. The pages work without JavaScript, load nothing from elsewhere, are
not cached and send no referrer; no client address is stored (bursts use a keyed hash, held
for minutes).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.decorators import ratelimit

from cegah.core.middleware import sensitive_page
from cegah.survey import runtime, sealing, services
from cegah.survey.forms import RegistrationForm
from cegah.survey.models import Draft, Edition, Invitation, Locus

DEVICE_COOKIE = "spi_dev"


def _invitation(token: str) -> Invitation:
    invitation = services.find_invitation(token)
    if invitation is None:
        raise Http404
    return invitation


def _with_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not request.COOKIES.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(16),
            max_age=60 * 60 * 24 * 60,
            httponly=True,
            samesite="Lax",
            path="/spi/",
        )
    return response


def _fingerprint(request: HttpRequest) -> str:
    device = request.COOKIES.get(DEVICE_COOKIE, "")
    if device:
        return sealing.keyed_hash("device", f"c:{device[:64]}")
    return sealing.keyed_hash("device", f"a:{request.META.get('REMOTE_ADDR', '')}")


@sensitive_page
@require_safe
@ratelimit(key="ip", rate="120/m", method="GET", block=True)
def respond(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    services.mark_opened(invitation)
    draft = Draft.objects.filter(invitation=invitation).first()
    context = {
        "invitation": invitation,
        "locus": invitation.locus,
        "token": token,
        "draft": draft,
        "open": invitation.locus.edition.status == Edition.Status.FIELDWORK,
    }
    return _with_device(request, render(request, "survey/public/landing.html", context))


@sensitive_page
@require_POST
@ratelimit(key="ip", rate="60/m", method="POST", block=True)
def respond_start(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation.completed:
        return redirect("survey:respond", token)
    try:
        services.start(invitation, token)
    except services.ValidationError:
        return redirect("survey:respond", token)
    return _with_device(request, redirect("survey:respond_page", token))


def _current(pages: list[runtime.Page], draft: Draft, answers: dict[str, Any]) -> int:
    """Return the number of the page to answer: the saved one, or the next with anything
    relevant (skip logic), forward from it."""
    number = min(draft.page, len(pages) - 1)
    while number < len(pages) - 1 and not runtime.visible(pages[number], answers):
        number += 1
    return number


def _page_context(
    invitation: Invitation,
    token: str,
    pages: list[runtime.Page],
    number: int,
    answers: dict[str, Any],
    errors: dict[str, str],
    appeared: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    page = pages[number]
    # The reader's language where the form has it (label::English (en)), else the form's
    # default, Indonesian, English: Question.label's fallbacks.
    lang = get_language() or "id"
    questions = []
    for q in runtime.visible(page, answers):
        hint, error = runtime.hint(q, lang), errors.get(q.name, "")
        # The ids of the hint and error texts, which every input of the question points to.
        hint_id, error_id = f"q-{q.name}-hint", f"q-{q.name}-error"
        questions.append(
            {
                "q": q,
                "kind": runtime.base_type(q),
                "label": q.label(lang),
                "hint": hint,
                "choices": [(c.name, c.label(lang)) for c in q.choices],
                "value": answers.get(q.name, ""),
                "values": str(answers.get(q.name, "")).split(),
                "error": error,
                "new": q.name in appeared,
                "hint_id": hint_id,
                "error_id": error_id,
                "describedby": " ".join(
                    i for i, shown in ((hint_id, hint), (error_id, error)) if shown
                ),
            }
        )
    return {
        "invitation": invitation,
        "locus": invitation.locus,
        "token": token,
        "page": page,
        "number": number,
        "count": len(pages),
        "percent": round(100 * number / len(pages)),
        "questions": questions,
        "last": number == len(pages) - 1,
        "errors": errors,
        "appeared": bool(appeared),
    }


def _closed(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """The landing page saying the survey is not open; a POST was refused (nothing applied)."""
    context = {"invitation": invitation, "locus": invitation.locus, "token": token, "open": False}
    status = 409 if request.method == "POST" else 200
    return render(request, "survey/public/landing.html", context, status=status)


def _after_lost_race(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    invitation.refresh_from_db(fields=["completed"])
    if invitation.completed:
        return render(request, "survey/public/thanks.html", {"locus": invitation.locus})
    return redirect("survey:respond", token)


@sensitive_page
@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate="120/m", method="POST", block=True)
def respond_page(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    if invitation.completed:
        return render(request, "survey/public/thanks.html", {"locus": invitation.locus})
    if not services.is_open(invitation):
        return _closed(request, invitation, token)
    draft = Draft.objects.filter(invitation=invitation).first()
    if draft is None:
        return redirect("survey:respond", token)
    answers = services.draft_answers(draft, token)
    pages = runtime.pages(services.questionnaire_for(invitation))
    number = _current(pages, draft, answers)
    errors: dict[str, str] = {}
    appeared: set[str] = set()
    if request.method == "POST":
        # The form names the part it was shown for. A second tap on "Next" (a slow
        # connection), an old tab or the back button posts a part that is no longer the current
        # one: applying it to the current part would save that part blank and move on.
        if request.POST.get("page", "") != str(number):
            return redirect("survey:respond_page", token)
        page = pages[number]
        action = request.POST.get("action", "next")
        shown = {q.name for q in runtime.visible(page, answers)}
        values, errors = runtime.clean_page(page, answers, dict(request.POST.lists()))
        for q in page.questions:
            answers.pop(q.name, None)
        answers.update(values)
        # Answers on this part can make more of its questions relevant (the expert's
        # procurement items follow "do you follow its procurement?"). Without JavaScript the
        # respondent has not seen them: show the part again with them instead of moving on
        # (and instead of calling them unanswered).
        appeared = {q.name for q in runtime.visible(page, answers)} - shown
        errors = {name: code for name, code in errors.items() if name not in appeared}
        # Every save below may find the draft gone: a concurrent submit (another tab, a second
        # tap) consumed it after it was read. This request then lost the race and shows what
        # the winner showed.
        if action == "back":
            target = max(0, number - 1)
            while target > 0 and not runtime.visible(pages[target], answers):
                target -= 1
            if not services.save_page(draft, token, answers, target):
                return _after_lost_race(request, invitation, token)
            return redirect("survey:respond_page", token)
        if errors or appeared:
            if not services.save_page(draft, token, answers, number):
                return _after_lost_race(request, invitation, token)
        elif action == "submit" and number == len(pages) - 1:
            if not services.save_page(draft, token, answers, number):
                return _after_lost_race(request, invitation, token)
            try:
                submitted = services.submit(invitation, token, _fingerprint(request))
            except services.ValidationError:  # closed meanwhile; the draft is kept
                return _closed(request, invitation, token)
            if not submitted:
                return _after_lost_race(request, invitation, token)
            return render(request, "survey/public/thanks.html", {"locus": invitation.locus})
        else:
            if not services.save_page(draft, token, answers, number + 1):
                return _after_lost_race(request, invitation, token)
            return redirect("survey:respond_page", token)
    context = _page_context(invitation, token, pages, number, answers, errors, appeared)
    return render(request, "survey/public/page.html", context, status=422 if errors else 200)


@sensitive_page
@require_POST
@ratelimit(key="ip", rate="30/m", method="POST", block=True)
def respond_optout(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation(token)
    services.opt_out(invitation)
    return render(request, "survey/public/optout.html", {"locus": invitation.locus})


@sensitive_page
@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate="20/h", method="POST", block=True)
def register(request: HttpRequest, code: str) -> HttpResponse:
    locus = (
        Locus.objects.select_related("organisation", "edition")
        .filter(registration_code=code[:40])
        .first()
    )
    if locus is None:
        raise Http404
    if not locus.registration_accepting:
        # A code printed at a counter outlives the registration: say it closed (a POST stores
        # nothing), rather than "page not found".
        status = 409 if request.method == "POST" else 200
        return render(
            request, "survey/public/register_closed.html", {"locus": locus}, status=status
        )
    units = services.units_of(locus)
    from cegah.orgs.models import Organisation

    form = RegistrationForm(
        request.POST or None, units=Organisation.objects.filter(pk__in=[u.pk for u in units])
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.register_self(locus, data["unit"], data["name"], data["phone"], data["email"])
        # The same page whether or not the person was already listed: no enumeration.
        return render(request, "survey/public/registered.html", {"locus": locus}, status=201)
    return render(request, "survey/public/register.html", {"locus": locus, "form": form})
