"""Handler pages: the case list, the case page and its actions, exports, keys and policy.

Thin: parse, access helper, one service call, render. Content is decrypted only in memory, with
the data key opened from the member's session.
"""

from __future__ import annotations

import csv
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cegah.accounts.models import User, staff_user
from cegah.accounts.permissions import Cap, has_cap
from cegah.core.compression import compressed
from cegah.core.crypto import DecryptionError
from cegah.core.spreadsheet import csv_row
from cegah.core.svg import choropleth
from cegah.orgs.access import access_organisation
from cegah.orgs.models import Organisation, Region
from cegah.wbs import exports, keys, oversight, referral, services
from cegah.wbs.access import access_attachment, access_report
from cegah.wbs.deadlines import add_working_days
from cegah.wbs.forms import (
    AssignForm,
    FilterForm,
    HandlerAttachmentForm,
    MessageForm,
    OperatorReportForm,
    PolicyForm,
    PriorityLabelsForm,
    RecoveryForm,
    RedactForm,
    ReferForm,
    TransitionForm,
    UnlockForm,
)
from cegah.wbs.hooks import CASE_PANELS
from cegah.wbs.intake import AttachmentRejected
from cegah.wbs.models import Referral, Report, ReportKey, Status
from cegah.wbs.session import share_out
from cegah.wbs.timeline import describe_events

# "Due soon" on the case list, in working days like the deadlines.
SOON_WORKING_DAYS = 7


def handlers_of(org: Organisation) -> list[User]:
    from cegah.accounts.permissions import ROLE_CAPS

    roles = [role for role, caps in ROLE_CAPS.items() if Cap.REPORTS_HANDLE in caps]
    return list(
        User.objects.filter(
            memberships__organisation=org, memberships__role__in=roles, is_active=True
        )
        .distinct()
        .order_by("username")
    )


def _data_key(request: HttpRequest, report: Report) -> bytes | None:
    org_private = keys.org_private_key(request, report.organisation)
    return keys.report_data_key(report, org_private) if org_private else None


def filtered_reports(request: HttpRequest, org: Organisation, form: FilterForm) -> QuerySet[Report]:
    reports = Report.objects.filter(organisation=org).select_related("assignee", "region")
    if not form.is_valid():
        return reports.order_by("-received_at")
    data = form.cleaned_data
    if data["status"] == "open":
        reports = reports.exclude(status__in=[Status.CLOSED, Status.ARCHIVED])
    elif data["status"]:
        reports = reports.filter(status=data["status"])
    if data["category"]:
        reports = reports.filter(category=data["category"])
    if data["region"]:
        reports = reports.filter(Q(region_id=data["region"]) | Q(region__parent_id=data["region"]))
    if data["assignee"] == "me":
        reports = reports.filter(assignee=staff_user(request))
    elif data["assignee"] == "none":
        reports = reports.filter(assignee__isnull=True)
    elif data["assignee"]:
        reports = reports.filter(assignee_id=data["assignee"])
    today = timezone.localdate()
    if data["due"] == "overdue":
        reports = reports.filter(due_answer__lt=today, answered_at__isnull=True).exclude(
            status__in=[Status.CLOSED, Status.ARCHIVED]
        )
    elif data["due"] == "soon":
        reports = reports.filter(
            due_answer__gte=today,
            due_answer__lte=add_working_days(today, SOON_WORKING_DAYS),
            answered_at__isnull=True,
        ).exclude(status__in=[Status.CLOSED, Status.ARCHIVED])
    return reports.order_by(data["sort"] or "-received_at", "-id")


@login_required
@require_safe
def case_list(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug, Cap.REPORTS_READ)
    handlers = handlers_of(org)
    form = FilterForm(request.GET or None, handlers=handlers)
    reports = filtered_reports(request, org, form)
    page = Paginator(reports, 25).get_page(request.GET.get("page"))
    today = timezone.localdate()
    open_reports = Report.objects.filter(organisation=org).exclude(
        status__in=[Status.CLOSED, Status.ARCHIVED]
    )
    summary = {
        "open": open_reports.count(),
        "unassigned": open_reports.filter(assignee__isnull=True).count(),
        "overdue": open_reports.filter(due_answer__lt=today, answered_at__isnull=True).count(),
        "soon": open_reports.filter(
            due_answer__gte=today,
            due_answer__lte=add_working_days(today, SOON_WORKING_DAYS),
            answered_at__isnull=True,
        ).count(),
    }
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "org": org,
        "form": form,
        "page": page,
        "summary": summary,
        "today": today,
        "query": query.urlencode(),
        "has_key": keys.org_private_key(request, org) is not None,
    }
    template = "wbs/_case_rows.html" if request.htmx else "wbs/case_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_safe
def case_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponseBase:
    org = access_organisation(request.user, slug, Cap.REPORTS_READ)
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    form = FilterForm(request.GET or None, handlers=handlers_of(org))
    reports = filtered_reports(request, org, form)
    with_content = request.GET.get("content") == "1"
    org_private = keys.org_private_key(request, org) if with_content else None
    if with_content and org_private is None:
        messages.error(request, _("Unlock your key to export content."))
        return redirect("wbs:unlock", slug=org.slug)
    from cegah.core import audit

    audit.record(
        "wbs.reports.exported",
        actor=staff_user(request),
        organisation=org,
        details={"format": fmt, "content": with_content, "count": reports.count()},
    )
    rows = exports.report_rows(reports, org_private)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        xlsx_response = HttpResponse(
            exports.rows_to_xlsx(rows, with_content),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        xlsx_response["Content-Disposition"] = (
            f'attachment; filename="laporan-{org.slug}-{stamp}.xlsx"'
        )
        return xlsx_response
    pseudo = exports.Echo()
    writer = csv.writer(pseudo)
    response = StreamingHttpResponse(
        (writer.writerow(csv_row(r)) for r in exports.with_header(rows, with_content)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="laporan-{org.slug}-{stamp}.csv"'
    return response


def _case_context(request: HttpRequest, report: Report) -> dict[str, Any]:
    data_key = _data_key(request, report)
    content = None
    redacted = None
    timeline: list[dict[str, Any]] = []
    attachments = []
    if data_key is not None:
        try:
            content = services.decrypt_content(report, data_key)
            redacted = services.decrypt_redacted(report, data_key)
        except DecryptionError:
            data_key = None
    # Messages appear in the timeline themselves; their events would only repeat them.
    for event in describe_events(
        list(
            report.events.select_related("actor")
            .exclude(kind__startswith="message_")
            .exclude(kind="reporter_message")
        )
    ):
        timeline.append({"at": event.created_at, "event": event, "kind": "event"})
    # The conversation with the reporter and this organisation's own notes: a report referred
    # here keeps the referring institution's internal notes with that institution.
    for message in services.messages_for_organisation(report, report.organisation).select_related(
        "author"
    ):
        body = None
        if data_key is not None:
            body = services.decrypt_message(message, data_key)
        timeline.append(
            {"at": message.created_at, "message": message, "body": body, "kind": "message"}
        )
    timeline.sort(key=lambda item: (item["at"], 0 if item["kind"] == "event" else 1))
    for attachment in report.attachments.all():
        name = services.attachment_name(attachment, data_key) if data_key else None
        attachments.append({"attachment": attachment, "name": name})
    handlers = handlers_of(report.organisation)
    return {
        "org": report.organisation,
        "report": report,
        "content": content,
        "redacted": redacted,
        "locked": data_key is None,
        "timeline": timeline,
        "attachments": attachments,
        "transitions": services.allowed_transitions(report),
        "transition_form": TransitionForm(),
        "assign_form": AssignForm(
            initial={"assignee": report.assignee_id or ""}, handlers=handlers
        ),
        "message_form": MessageForm(),
        "priority_form": PriorityLabelsForm(
            initial={"priority": report.priority, "labels": ", ".join(report.labels)}
        ),
        "redact_form": RedactForm(
            initial={
                "text": redacted if redacted is not None else (content or {}).get("description", "")
            }
        ),
        "attachment_form": HandlerAttachmentForm(),
        "can_handle": has_cap(request.user, report.organisation, Cap.REPORTS_HANDLE),
        "today": timezone.localdate(),
        "refer_form": ReferForm(
            targets=referral.referral_targets(report) if report.is_open else []
        ),
        "panels": [
            {"template": result[0], "context": result[1]}
            for panel in CASE_PANELS
            if (result := panel(request, report)) is not None
        ],
    }


@login_required
@require_safe
def case_detail(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    report = access_report(request.user, slug, report_id)
    return render(request, "wbs/case_detail.html", _case_context(request, report))


def _act(request: HttpRequest, slug: str, report_id: UUID, action: Any) -> HttpResponse:
    report = access_report(request.user, slug, report_id, Cap.REPORTS_HANDLE)
    try:
        action(report)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except AttachmentRejected as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("wbs:case", slug=slug, report_id=report_id)


def _need_key(request: HttpRequest, report: Report) -> bytes:
    data_key = _data_key(request, report)
    if data_key is None:
        raise ValidationError(_("Unlock your key first (log in again or use the unlock page)."))
    return data_key


@login_required
@require_POST
def case_transition(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    form = TransitionForm(request.POST)

    def action(report: Report) -> None:
        if not form.is_valid():
            raise ValidationError(_("Choose a status."))
        services.transition_report(
            report,
            form.cleaned_data["status"],
            staff_user(request),
            outcome=form.cleaned_data["outcome"],
        )

    return _act(request, slug, report_id, action)


@login_required
@require_POST
def case_assign(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    def action(report: Report) -> None:
        form = AssignForm(request.POST, handlers=handlers_of(report.organisation))
        if not form.is_valid():
            raise ValidationError(_("Choose a handler."))
        assignee = (
            User.objects.filter(pk=form.cleaned_data["assignee"]).first()
            if form.cleaned_data["assignee"]
            else None
        )
        services.assign_report(report, assignee, staff_user(request))

    return _act(request, slug, report_id, action)


@login_required
@require_POST
def case_message(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    form = MessageForm(request.POST)

    def action(report: Report) -> None:
        if not form.is_valid():
            raise ValidationError(_("Write a message."))
        services.post_message(
            report,
            _need_key(request, report),
            form.cleaned_data["kind"],
            form.cleaned_data["body"],
            staff_user(request),
        )

    return _act(request, slug, report_id, action)


@login_required
@require_POST
def case_priority(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    form = PriorityLabelsForm(request.POST)

    def action(report: Report) -> None:
        if not form.is_valid():
            raise ValidationError(_("Choose a priority."))
        actor = staff_user(request)
        if form.cleaned_data["priority"] != report.priority:
            services.set_priority(report, form.cleaned_data["priority"], actor)
        labels = list(form.cleaned_data["labels"].split(","))
        if sorted({lab.strip().lower() for lab in labels if lab.strip()}) != report.labels:
            services.set_labels(report, labels, actor)

    return _act(request, slug, report_id, action)


@login_required
@require_POST
def case_redact(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    form = RedactForm(request.POST)

    def action(report: Report) -> None:
        if not form.is_valid():
            raise ValidationError(_("The text is too long."))
        services.redact_report(
            report, _need_key(request, report), form.cleaned_data["text"], staff_user(request)
        )

    return _act(request, slug, report_id, action)


@login_required
@require_POST
def case_attach(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    form = HandlerAttachmentForm(request.POST, request.FILES)

    def action(report: Report) -> None:
        if not form.is_valid():
            raise ValidationError(_("Choose a file."))
        upload = form.cleaned_data["file"]
        services.add_handler_attachment(
            report,
            _need_key(request, report),
            services.IncomingFile(upload.name, upload.read()),
            staff_user(request),
        )

    return _act(request, slug, report_id, action)


@login_required
@require_safe
def case_attachment(
    request: HttpRequest, slug: str, report_id: UUID, attachment_id: UUID
) -> HttpResponse:
    attachment = access_attachment(request.user, slug, report_id, attachment_id)
    data_key = _data_key(request, attachment.report)
    if data_key is None:
        return redirect("wbs:unlock", slug=slug)
    name, data = services.read_attachment(attachment, data_key)
    # Always a download with a neutral type: a file from the public must never render in our origin.
    response = HttpResponse(data, content_type="application/octet-stream")
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    response["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def case_pdf(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    report = access_report(request.user, slug, report_id)
    context = _case_context(request, report)
    services.audit_report(
        "wbs.report.exported",
        actor=staff_user(request),
        organisation=report.organisation,
        obj=report,
        details={"format": "pdf", "content": not context["locked"]},
    )
    pdf = exports.case_pdf(request, context)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.reference}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest, slug: str) -> HttpResponse:
    """Re-open the member's key with their password (after the key cookie was lost)."""
    org = access_organisation(request.user, slug, Cap.REPORTS_READ)
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = staff_user(request)
        if user.check_password(form.cleaned_data["password"]):
            response = redirect("wbs:cases", slug=org.slug)
            private = keys.unlock_user_key(user, form.cleaned_data["password"])
            keys.remember_in_session(request, response, private)
            share_out(user, private)
            if keys.org_private_key(request, org) is None and not _has_share(user, org):
                messages.warning(
                    request,
                    _(
                        "Your key is open, but a colleague or your admin must still grant you access to this organisation's reports."
                    ),
                )
            return response
        form.add_error("password", _("Wrong password."))
    return render(request, "wbs/unlock.html", {"org": org, "form": form})


def _has_share(user: User, org: Organisation) -> bool:
    from cegah.wbs.models import KeyShare

    return KeyShare.objects.filter(user=user, org_key__organisation=org).exists()


@login_required
@require_http_methods(["GET", "POST"])
def key_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Set up the organisation's report key (recovery key shown once) or restore access with it."""
    org = access_organisation(request.user, slug, Cap.MEMBERS_MANAGE)
    from cegah.wbs.models import KeyShare, OrgKey, UserKey

    org_key = OrgKey.objects.filter(organisation=org).first()
    recovery_key = None
    recovery_form = RecoveryForm(request.POST if request.POST.get("action") == "recover" else None)
    if request.method == "POST" and request.POST.get("action") == "setup" and org_key is None:
        recovery_key = keys.set_up_org_key(org, staff_user(request))
        org_key = OrgKey.objects.get(organisation=org)
    elif (
        request.method == "POST"
        and request.POST.get("action") == "recover"
        and org_key
        and recovery_form.is_valid()
    ):
        try:
            org_private = keys.org_private_from_recovery(
                org, recovery_form.cleaned_data["recovery_key"]
            )
        except DecryptionError:
            recovery_form.add_error(
                "recovery_key", _("That recovery key does not open this organisation's key.")
            )
        else:
            granted = keys.grant_pending_shares(org, org_private, staff_user(request))
            messages.success(request, _("Access granted to %(n)s member(s).") % {"n": granted})
            return redirect("wbs:keys", slug=org.slug)
    readers = keys.readers_of(org)
    holders = (
        set(KeyShare.objects.filter(org_key=org_key).values_list("user_id", flat=True))
        if org_key
        else set()
    )
    with_keys = set(UserKey.objects.filter(user__in=readers).values_list("user_id", flat=True))
    rows = [
        {"user": u, "has_share": u.pk in holders, "has_key": u.pk in with_keys} for u in readers
    ]
    return render(
        request,
        "wbs/keys.html",
        {
            "org": org,
            "org_key": org_key,
            "recovery_key": recovery_key,
            "recovery_form": recovery_form,
            "rows": rows,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_settings(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug, Cap.MEMBERS_MANAGE)
    policy = services.policy_for(org)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        services.update_policy(policy, form.cleaned_data, staff_user(request))
        messages.success(request, _("Saved."))
        return redirect("wbs:policy", slug=org.slug)
    accepting = services.accepting_organisations().filter(pk=org.pk).exists()
    return render(request, "wbs/policy.html", {"org": org, "form": form, "accepting": accepting})


# --- referral ------------------------------------------------------------------------------------


@login_required
@require_POST
def case_refer(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    report = access_report(request.user, slug, report_id, Cap.REPORTS_HANDLE)
    form = ReferForm(request.POST, targets=referral.referral_targets(report))
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose where to refer the report."))
        target = form.target_organisation()
        referral.refer_report(report, target, _need_key(request, report), staff_user(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("wbs:case", slug=slug, report_id=report_id)
    messages.success(request, _("The report was referred to %(org)s.") % {"org": target.name})
    return redirect("wbs:referred_detail", slug=slug, report_id=report_id)


def _access_referred(
    request: HttpRequest, slug: str, report_id: UUID
) -> tuple[Organisation, Referral]:
    org = access_organisation(request.user, slug, Cap.REPORTS_READ)
    found = (
        Referral.objects.filter(from_org=org, report__public_id=report_id)
        .select_related("report", "to_org", "report__organisation")
        .first()
    )
    if found is None:
        raise Http404
    return org, found


@login_required
@require_safe
def referred_list(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug, Cap.REPORTS_READ)
    page = Paginator(referral.referred_out(org), 25).get_page(request.GET.get("page"))
    return render(request, "wbs/referred_list.html", {"org": org, "page": page})


@login_required
@require_safe
def referred_detail(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    """What the sender keeps: the live status and the public timeline; content only if allowed."""
    org, found = _access_referred(request, slug, report_id)
    report = found.report
    content = None
    if found.sender_keeps_content:
        org_private = keys.org_private_key(request, org)
        if org_private is not None:
            wrapped = ReportKey.objects.filter(report=report, organisation=org).first()
            if wrapped is not None:
                try:
                    from cegah.core.crypto import unwrap

                    data_key = unwrap(
                        org_private, bytes(wrapped.wrapped), keys.report_key_info(report, org.pk)
                    )
                    content = services.decrypt_content(report, data_key)
                except DecryptionError:
                    content = None
    events = describe_events(
        list(report.events.filter(visible_to_reporter=True).select_related("actor"))
    )
    return render(
        request,
        "wbs/referred_detail.html",
        {"org": org, "referral": found, "report": report, "events": events, "content": content},
    )


# --- oversight -----------------------------------------------------------------------------------


@login_required
@require_safe
def oversight_dashboard(request: HttpRequest) -> HttpResponse:
    scope = oversight.oversight_scope(request.user)
    if scope is None:
        raise Http404
    return render(request, "wbs/oversight.html", {"scope": scope, **oversight.dashboard(scope)})


@login_required
@require_safe
@compressed
def oversight_map(request: HttpRequest) -> HttpResponse:
    scope = oversight.oversight_scope(request.user)
    if scope is None:
        raise Http404
    province = request.GET.get("province") or None
    if province is not None and not Region.objects.filter(code=province, level=1).exists():
        raise Http404
    counts = oversight.region_counts(scope, province)
    maximum = max((n for _c, _n, n in counts), default=0)
    by_code = {code: n for code, _name, n in counts}
    regions = (
        Region.objects.filter(parent_id=province) if province else Region.objects.filter(level=1)
    )
    items = []
    for region in regions:
        n = by_code.get(region.code, 0)
        url = "" if province else f"{reverse('wbs:oversight_map')}?province={region.code}"
        items.append(
            (
                region.code,
                region.name,
                oversight.heat_class(n, maximum),
                url,
                _("%(name)s: %(n)s reports") % {"name": region.name, "n": n},
            )
        )
    shapes, width, height = choropleth(items)
    return render(
        request,
        "wbs/oversight_map.html",
        {
            "scope": scope,
            "shapes": shapes,
            "map_width": width,
            "map_height": height,
            "counts": counts,
            "province": Region.objects.filter(code=province).first() if province else None,
            "maximum": maximum,
        },
    )


# --- operator intake (phone hotline, walk-in) ---------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def operator_intake(request: HttpRequest, slug: str) -> HttpResponse:
    """Record a report on behalf of a caller or visitor; the receipt is read out or printed."""
    org = access_organisation(request.user, slug, Cap.REPORTS_HANDLE)
    if not services.accepting_organisations().filter(pk=org.pk).exists():
        raise Http404
    policy = services.policy_for(org)
    form = OperatorReportForm(
        request.POST or None,
        request.FILES or None,
        policy=policy,
        initial={"submission": services.new_submission_token()},
    )
    if request.method == "POST" and form.is_valid() and (claim := form.submission_claim()):
        try:
            submitted = services.submit_report(
                org,
                form.to_input(),
                form.files_input(),
                channel=form.cleaned_data["channel"],
                actor=staff_user(request),
                claim=claim,
            )
        except services.AlreadySubmitted:
            messages.warning(
                request,
                _(
                    "This report was already recorded; it was not recorded twice. Its receipt "
                    "code was shown once, when it was recorded."
                ),
            )
            return redirect("wbs:cases", slug=org.slug)
        except AttachmentRejected as exc:
            form.add_error("attachments", str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(
                request,
                "wbs/operator_receipt.html",
                {
                    "org": org,
                    "receipt": keys.format_receipt(submitted.receipt),
                    "report": submitted.report,
                    "files": submitted.files,
                },
                status=201,
            )
    if request.method == "POST":
        form.note_files_not_sent()
    return render(request, "wbs/operator_intake.html", {"org": org, "form": form})
