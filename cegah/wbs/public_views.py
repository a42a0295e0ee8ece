"""The reporter's pages: choose where to report, the report form, the receipt, and follow-up.

They work without JavaScript, load nothing from elsewhere, and store no address or user agent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cegah.core.middleware import sensitive_page
from cegah.wbs import keys, ratelimits, services, throttle, timeline
from cegah.wbs.forms import ReceiptForm, ReplyForm, ReportForm, uploaded_files
from cegah.wbs.intake import AttachmentRejected
from cegah.wbs.models import Message, Status

SESSION_COOKIE = "cegah_lapor"


@require_safe
def choose_organisation(request: HttpRequest) -> HttpResponse:
    orgs = services.accepting_organisations()
    query = request.GET.get("q", "").strip()[:100]
    if query:
        orgs = orgs.filter(Q(name__icontains=query) | Q(region__name__icontains=query))
    return render(request, "wbs/public/choose.html", {"orgs": orgs, "q": query})


def _accepting(slug: str) -> object:
    org = services.accepting_organisations().filter(slug=slug).first()
    if org is None:
        raise Http404
    return org


def _wait_message(seconds: int) -> str:
    wait = ratelimits.minutes(seconds)
    return ngettext(
        "Many reports were sent from your connection in the last hour (people on one mobile "
        "network often share it), so this one was not sent yet. Your text is kept below: wait "
        "about %(minutes)s minute, then press Send again.",
        "Many reports were sent from your connection in the last hour (people on one mobile "
        "network often share it), so this one was not sent yet. Your text is kept below: wait "
        "about %(minutes)s minutes, then press Send again.",
        wait,
    ) % {"minutes": wait}


@sensitive_page
@require_http_methods(["GET", "POST"])
def report_form(request: HttpRequest, slug: str) -> HttpResponse:
    org = _accepting(slug)
    policy = services.policy_for(org)  # type: ignore[arg-type]
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        policy=policy,
        initial={"submission": services.new_submission_token()},
    )
    status = 200
    # Only reports filed count against an address; posts that come back (errors, a new person
    # row) only against a flood ceiling. Either way the typed text comes back with the wait.
    if request.method == "POST" and (wait := ratelimits.post_wait(request)):
        form.add_error(None, _wait_message(wait))
        status = 429
    elif request.method == "POST" and form.is_valid() and (claim := form.submission_claim()):
        if wait := ratelimits.filing_wait(request):
            form.add_error(None, _wait_message(wait))
            form.note_files_not_sent()
            return render(
                request,
                "wbs/public/report_form.html",
                {"org": org, "form": form, "policy": policy},
                status=429,
            )
        try:
            submitted = services.submit_report(
                org,  # type: ignore[arg-type]
                form.to_input(),
                form.files_input(),
                claim=claim,
            )
        except services.AlreadySubmitted:
            # The receipt was shown once, to the first post; it is stored nowhere to show again.
            return render(request, "wbs/public/already_sent.html", {"org": org}, status=409)
        except AttachmentRejected as exc:
            form.add_error("attachments", str(exc))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            ratelimits.count_filing(request)
            # Rendered, not redirected: the receipt must not end up in a URL or the history.
            return render(
                request,
                "wbs/public/receipt.html",
                {
                    "org": org,
                    "receipt": keys.format_receipt(submitted.receipt),
                    "raw_receipt": submitted.receipt,
                    "reference": submitted.report.reference,
                    "files": submitted.files,
                },
                status=201,
            )
    if request.method == "POST":
        form.note_files_not_sent()
    return render(
        request,
        "wbs/public/report_form.html",
        {"org": org, "form": form, "policy": policy},
        status=status,
    )


@sensitive_page
@require_POST
def receipt_download(request: HttpRequest) -> HttpResponse:
    """Return the receipt as a text file; the receipt comes from the page's own form, never the URL."""
    receipt = keys.normalise_receipt(request.POST.get("receipt", ""))
    if receipt is None:
        raise Http404
    text = _(
        "Cegah receipt code\n\n%(receipt)s\n\nKeep this code secret. With it you can read the handler's answers "
        "and add information at %(url)s\nAnyone who has the code can read your report.\n"
    ) % {"receipt": keys.format_receipt(receipt), "url": settings.SITE_URL + "/lapor/pantau/"}
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tanda-terima-cegah.txt"'
    return response


def _wait_text(seconds: int) -> str:
    """'Wait N seconds/minutes' for a reporter, in whole units with the right plural."""
    if seconds < 60:
        return ngettext(
            "For your safety, wait %(count)s second before you try again.",
            "For your safety, wait %(count)s seconds before you try again.",
            seconds,
        ) % {"count": seconds}
    minutes = ratelimits.minutes(seconds)
    return ngettext(
        "For your safety, wait %(count)s minute before you try again.",
        "For your safety, wait %(count)s minutes before you try again.",
        minutes,
    ) % {"count": minutes}


def _session_cookie(response: HttpResponse, token: str) -> HttpResponse:
    """(Re)set the reporter's session cookie; the server-side session slides with it."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.WBS_SESSION_MINUTES * 60,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Strict",
        path="/lapor/",
    )
    return response


@sensitive_page
@require_http_methods(["GET", "POST"])
def followup_login(request: HttpRequest) -> HttpResponse:
    form = ReceiptForm(request.POST or None)
    wait = 0
    if request.method == "POST":
        wait = ratelimits.receipt_post_wait(request)
        # A code that cannot be a receipt is answered by the form and is no guess: it neither
        # counts towards the wrong-code delay nor waits for it.
        if not wait and form.is_valid():
            wait = throttle.wait_seconds(request)
            if not wait:
                opened = services.open_reporter_session(form.cleaned_data["receipt"])
                if opened is not None:
                    throttle.record_success(request)
                    token, _session = opened
                    _send_pending(request, token, form.cleaned_data["pending_body"])
                    return _session_cookie(redirect("wbs:followup"), token)
                throttle.record_failure(request)
                form.add_error(
                    "receipt", _("This receipt code does not open a report. Check the 16 digits.")
                )
    return render(
        request,
        "wbs/public/followup_login.html",
        {"form": form, "wait_text": _wait_text(wait) if wait else ""},
        status=429 if wait else 200,
    )


def _send_pending(request: HttpRequest, token: str, body: str) -> None:
    """Send the reply that was typed when the previous session had ended."""
    if not body.strip():
        return
    context = services.reporter_context(token)
    if context is None:
        return
    report, data_key = context
    services.reporter_reply(report, data_key, body)
    messages.success(request, _("Your message was sent to the handler."))


def _session_ended(request: HttpRequest) -> HttpResponse:
    """The reporter's session ended: ask for the receipt again. A reply that was being sent
    comes back in the page (never stored) and goes out once the receipt opens the report."""
    if request.method == "POST":
        form = ReceiptForm(initial={"pending_body": request.POST.get("body", "")})
        response = render(
            request,
            "wbs/public/followup_login.html",
            {
                "form": form,
                "session_ended": True,
                "session_minutes": settings.WBS_SESSION_MINUTES,
                "dropped_files": [f.name for f in request.FILES.getlist("attachments")],
            },
        )
    else:
        if request.COOKIES.get(SESSION_COOKIE):
            messages.info(
                request,
                _("Your session ended. Enter your receipt code to open your report again."),
            )
        response = redirect("wbs:followup_login")
    response.delete_cookie(SESSION_COOKIE, path="/lapor/")
    return response


@sensitive_page
@require_http_methods(["GET", "POST"])
def followup(request: HttpRequest) -> HttpResponse:
    token = request.COOKIES.get(SESSION_COOKIE)
    context = services.reporter_context(token)
    if context is None or token is None:
        return _session_ended(request)
    report, data_key = context
    form = ReplyForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and (wait := ratelimits.reply_post_wait(request)):
        form.add_error(None, _wait_text(wait))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            services.reporter_reply(
                report,
                data_key,
                form.cleaned_data["body"],
                uploaded_files(form.cleaned_data["attachments"]),
            )
        except AttachmentRejected as exc:
            form.add_error("attachments", str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _session_cookie(redirect("wbs:followup"), token)
    if request.method == "POST":
        form.note_files_not_sent()
    messages_: list[dict[str, Any]] = [
        {"message": m, "body": services.decrypt_message(m, data_key)}
        for m in report.messages.exclude(kind=Message.Kind.NOTE)
    ]
    services.mark_read_by_reporter(report)
    steps = [s for s in Status if s not in {Status.ARCHIVED, Status.REFERRED}]
    kinds = [m["message"].kind for m in messages_]
    last_question = max(
        (i for i, kind in enumerate(kinds) if kind == Message.Kind.QUESTION), default=None
    )
    referral = timeline.last_referral(report)
    response = render(
        request,
        "wbs/public/followup.html",
        {
            "report": report,
            "messages_": messages_,
            "timeline": timeline.reporter_timeline(report),
            "referral": referral,
            "first_org": timeline.first_organisation(report),
            "form": form,
            "steps": steps,
            "files": services.reporter_files(report, data_key),
            # Answered once the reporter wrote after the last question.
            "open_question": last_question is not None
            and Message.Kind.REPORTER not in kinds[last_question + 1 :],
        },
        status=status,
    )
    return _session_cookie(response, token)


@sensitive_page
@require_POST
def followup_logout(request: HttpRequest) -> HttpResponse:
    token = request.COOKIES.get(SESSION_COOKIE)
    if token:
        services.close_reporter_session(token)
    response = redirect("core:home")
    response.delete_cookie(SESSION_COOKIE, path="/lapor/")
    return response
