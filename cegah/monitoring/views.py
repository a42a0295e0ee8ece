"""Monitoring pages. Thin: parse, access helper, one service call, render."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cegah.accounts.models import staff_user
from cegah.accounts.permissions import Cap
from cegah.core.compression import compressed
from cegah.core.svg import choropleth, s_curve_geometry, trend_geometry
from cegah.monitoring import exports, services, tepra
from cegah.monitoring.access import (
    REGIONAL_KINDS,
    Monitored,
    access_assessment,
    access_evidence,
    access_meeting,
    access_monitored,
    access_progress_update,
    access_project,
    access_recommendation,
    access_sub_indicator,
    access_tepra_import,
    can_manage_recommendation,
    can_report_progress,
    covered_organisations,
    orgs_with_cap,
    supervising_orgs,
)
from cegah.monitoring.forms import (
    AnswerForm,
    EvidenceFileForm,
    EvidenceLinkForm,
    FrameworkImportForm,
    MeetingForm,
    ProgressForm,
    ProjectForm,
    RecommendationForm,
    RecommendationStatusForm,
    TepraImportForm,
    VerifyForm,
)
from cegah.monitoring.framework_io import (
    FrameworkImportError,
    read_workbook,
    save_framework,
    write_workbook,
)
from cegah.monitoring.models import (
    Answer,
    Area,
    Assessment,
    Framework,
    Meeting,
    Period,
    Realisation,
    Recommendation,
    StrategicProject,
    TepraImport,
)
from cegah.monitoring.scores import (
    latest_period,
    period_standings,
    scorecard,
    trend,
)
from cegah.orgs.models import Organisation, Region

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _query_int(request: HttpRequest, name: str) -> int | None:
    """Return query parameter ``name`` as a number, or None when it is missing or not one.

    ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` refuses (a server error).
    """
    wanted = request.GET.get(name, "").strip()
    if not (wanted.isascii() and wanted.isdigit()) or len(wanted) > 9:
        return None
    return int(wanted)


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _stored_file(field: Any, name: str, content_type: str) -> FileResponse:
    """Serve a stored upload as a download: never inline, never sniffed, never cached."""
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Home and frameworks -----------------------------------------------------------------------


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The user's regional governments and supervising organisations."""
    mine = [o for o in orgs_with_cap(request.user, Cap.MONITORING_VIEW) if o.kind in REGIONAL_KINDS]
    supervising = list(supervising_orgs(request.user, Cap.MONITORING_VIEW))
    return render(
        request,
        "monitoring/home.html",
        {"institutions": mine, "supervising": supervising, "period": latest_period()},
    )


def _can_manage_frameworks(request: HttpRequest) -> bool:
    user = request.user
    if getattr(user, "is_superuser", False):
        return True
    return any(o.kind == Organisation.Kind.KPK for o in orgs_with_cap(user, Cap.MONITORING_VERIFY))


def _framework_from_query(request: HttpRequest) -> Framework | None:
    frameworks = Framework.objects.filter(is_active=True)
    wanted = _query_int(request, "id")
    if wanted is not None:
        return frameworks.filter(pk=wanted).first()
    return frameworks.first()


@login_required
@require_http_methods(["GET", "POST"])
def frameworks(request: HttpRequest) -> HttpResponse:
    """Frameworks (shared reference data); KPK verifiers import new versions here."""
    can_manage = _can_manage_frameworks(request)
    form = FrameworkImportForm()
    errors: list[Any] = []
    if request.method == "POST":
        if not can_manage:
            raise Http404
        form = FrameworkImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if (upload.size or 0) > 5 * 1024 * 1024:
                    raise ValidationError(_("The file is too large; the limit is 5 MB."))
                spec = read_workbook(upload.read())
                framework = save_framework(spec, actor=staff_user(request))
            except FrameworkImportError as exc:
                errors = exc.errors
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Framework imported."))
                return redirect(f"{reverse('monitoring:frameworks')}?id={framework.pk}")
    current = _framework_from_query(request)
    areas = (
        current.areas.prefetch_related("indicators__subs")
        if current is not None
        else Area.objects.none()
    )
    return render(
        request,
        "monitoring/frameworks.html",
        {
            "frameworks": Framework.objects.filter(is_active=True),
            "current": current,
            "areas": areas,
            "form": form,
            "import_errors": errors,
            "can_manage": can_manage,
        },
    )


@login_required
@require_safe
def framework_export(request: HttpRequest) -> HttpResponse:
    framework = _framework_from_query(request)
    if framework is None:
        raise Http404
    return _attachment(
        write_workbook(framework), XLSX, f"framework-{framework.year}-v{framework.version}.xlsx"
    )


# --- Supervisors' view -------------------------------------------------------------------------


def _period_from_query(request: HttpRequest) -> Period | None:
    wanted = _query_int(request, "period")
    if wanted is not None:
        period = (
            Period.objects.select_related("framework")
            .filter(pk=wanted, framework__is_active=True)
            .first()
        )
        if period is not None:
            return period
    return latest_period()


def _coverage_context(request: HttpRequest) -> dict[str, Any]:
    supervisors = list(supervising_orgs(request.user, Cap.MONITORING_VIEW))
    covered = list(covered_organisations(supervisors).order_by("region_id"))
    covered_ids = {o.pk for o in covered}
    period = _period_from_query(request)
    province = request.GET.get("province", "")
    standings = []
    if period is not None:
        standings = [s for s in period_standings(period) if s.organisation.pk in covered_ids]
    codes = sorted({(o.region_id or "").split(".")[0] for o in covered if o.region_id})
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    provinces = [(code, names.get(code, code)) for code in codes]
    if province:
        standings = [s for s in standings if (s.organisation.region_id or "").startswith(province)]
        covered = [o for o in covered if (o.region_id or "").startswith(province)]
    scored = {s.organisation.pk for s in standings}
    missing = [o for o in covered if o.pk not in scored]
    return {
        "supervisors": supervisors,
        "period": period,
        "periods": Period.objects.select_related("framework").filter(framework__is_active=True),
        "standings": standings,
        "missing": missing,
        "province": province,
        "provinces": provinces,
        "zone_counts": Counter(s.card.zone for s in standings),
    }


@login_required
@require_safe
@compressed
def coverage(request: HttpRequest) -> HttpResponse:
    """Every regional government the user's organisations cover, ranked, with a zone map."""
    ctx = _coverage_context(request)
    items = []
    by_org = {s.organisation.pk: s for s in ctx["standings"]}
    shown_provinces = {
        (s.organisation.region_id or "")
        for s in ctx["standings"]
        if s.organisation.kind == Organisation.Kind.PROVINCE
    }
    regency_orgs = [s.organisation for s in ctx["standings"]] + ctx["missing"]
    multi_province = len({(o.region_id or "")[:2] for o in regency_orgs}) > 1
    for org in regency_orgs:
        if not org.region_id:
            continue
        is_province = org.kind == Organisation.Kind.PROVINCE
        # At one province's scale the kab/kota are drawn; the province is the table's first row.
        if is_province and not multi_province:
            continue
        if not is_province and multi_province and org.region_id[:2] in shown_provinces:
            continue
        standing = by_org.get(org.pk)
        css = f"zone-{standing.card.zone}" if standing else "zone-none"
        # Tooltips are text, not template output: localise the score here ("75,17" like the
        # table, not "75.17").
        if standing is None:
            label = _("%(name)s: no score") % {"name": org.name}
        elif standing.awaiting:
            css += " awaiting"
            label = ngettext(
                "%(name)s: %(score)s (%(n)s answer awaiting verification)",
                "%(name)s: %(score)s (%(n)s answers awaiting verification)",
                standing.awaiting,
            ) % {
                "name": org.name,
                "score": number_format(standing.card.total, decimal_pos=2),
                "n": standing.awaiting,
            }
        else:
            label = _("%(name)s: %(score)s") % {
                "name": org.name,
                "score": number_format(standing.card.total, decimal_pos=2),
            }
        items.append(
            (
                org.region_id,
                org.name,
                css,
                reverse("monitoring:institution", args=[org.slug]),
                label,
            )
        )
    shapes, width, height = choropleth(items)
    ctx |= {"shapes": shapes, "map_width": width, "map_height": height}
    return render(request, "monitoring/coverage.html", ctx)


@login_required
@require_safe
def coverage_xlsx(request: HttpRequest) -> HttpResponse:
    ctx = _coverage_context(request)
    if ctx["period"] is None:
        raise Http404
    return _attachment(
        exports.standings_xlsx(ctx["period"], ctx["standings"]), XLSX, "mcp-ranking.xlsx"
    )


@login_required
@require_safe
def coverage_pdf(request: HttpRequest) -> HttpResponse:
    ctx = _coverage_context(request)
    if ctx["period"] is None:
        raise Http404
    return _attachment(exports.standings_pdf(request, ctx), "application/pdf", "mcp-ranking.pdf")


@login_required
@require_safe
@compressed
def coverage_tepra(request: HttpRequest) -> HttpResponse:
    """Budget realisation per kab/kota in the user's coverage, lagging first."""
    supervisors = list(supervising_orgs(request.user, Cap.MONITORING_VIEW))
    year = _year_from_query(request)
    rows = tepra.regional_progress(covered_organisations(supervisors), year)
    return render(
        request,
        "monitoring/coverage_tepra.html",
        {"rows": rows, "year": year, "supervisors": supervisors},
    )


@login_required
@require_http_methods(["GET", "POST"])
def meetings(request: HttpRequest) -> HttpResponse:
    """Coordination meetings of the user's supervising organisations; verifiers record new ones."""
    viewers = list(supervising_orgs(request.user, Cap.MONITORING_VIEW))
    verifiers = list(supervising_orgs(request.user, Cap.MONITORING_VERIFY))
    form = MeetingForm(request.POST or None, request.FILES or None, supervisors=verifiers)
    if request.method == "POST":
        if not verifiers:
            raise Http404
        if form.is_valid():
            try:
                services.create_meeting(
                    convened_by=form.cleaned_data["convened_by"],
                    title=form.cleaned_data["title"],
                    held_on=form.cleaned_data["held_on"],
                    minutes=form.cleaned_data["minutes"],
                    actor=staff_user(request),
                )
            except ValidationError as exc:
                form.add_error("minutes", exc)
            else:
                messages.success(request, _("Meeting recorded."))
                return redirect("monitoring:meetings")
    rows = Meeting.objects.filter(convened_by__in=viewers).select_related("convened_by")
    return render(
        request,
        "monitoring/meetings.html",
        {"meetings": rows, "form": form, "can_create": bool(verifiers)},
    )


@login_required
@require_safe
def meeting_minutes(request: HttpRequest, meeting_id: int) -> FileResponse:
    meeting = access_meeting(request.user, meeting_id)
    return _stored_file(meeting.minutes, meeting.minutes_name, meeting.minutes_type)


# --- One regional government -------------------------------------------------------------------


def _periods_with_assessments(monitored: Monitored) -> list[dict[str, Any]]:
    assessments = {a.period_id: a for a in Assessment.objects.filter(organisation=monitored.org)}
    rows = []
    for period in (
        Period.objects.select_related("framework")
        .filter(framework__is_active=True)
        .order_by("-framework__year", "-quarter")
    ):
        assessment = assessments.get(period.pk)
        if assessment and assessment.status == Assessment.Status.DRAFT and not monitored.is_own:
            assessment = None
        rows.append({"period": period, "assessment": assessment})
    return rows


@login_required
@require_safe
def institution(request: HttpRequest, slug: str) -> HttpResponse:
    """A regional government's scores and trend, evidence status, recommendations and TEPRA."""
    monitored = access_monitored(request.user, slug)
    org = monitored.org
    history = trend(org)
    today = timezone.localdate()
    recs = list(Recommendation.objects.filter(institution=org))
    year = today.year
    month = tepra.latest_month(org, year)
    if month is None:
        year -= 1
        month = tepra.latest_month(org, year)
    tepra_total = None
    if month is not None:
        rows = list(Realisation.objects.filter(organisation=org).filter(year=year, month=month))
        tepra_total = tepra.aggregate(
            org.name, rows, tepra.target_at(tepra.quarter_targets(org, year), month)
        )
    return render(
        request,
        "monitoring/institution.html",
        {
            "m": monitored,
            "org": org,
            "periods": _periods_with_assessments(monitored),
            "history": history,
            "latest": history[-1] if history else None,
            "trend_svg": trend_geometry([(p.label, card.total) for p, card in history])
            if history
            else None,
            "rec_counts": Counter(r.status for r in recs),
            "rec_overdue": sum(1 for r in recs if r.is_overdue(today)),
            "tepra_year": year,
            "tepra_month": month,
            "tepra_total": tepra_total,
        },
    )


@login_required
@require_safe
def assessment(request: HttpRequest, slug: str, period_id: int) -> HttpResponse:
    """The self-assessment of one period: every sub-indicator with value, verdict and evidence."""
    monitored, period, current = access_assessment(request.user, slug, period_id)
    answers: list[Answer] = []
    if current is not None:
        answers = list(current.answers.select_related("sub_indicator").prefetch_related("evidence"))
    card = scorecard(period.framework, answers)
    by_sub = {a.sub_indicator_id: a for a in answers}
    return render(
        request,
        "monitoring/assessment.html",
        {
            "m": monitored,
            "org": monitored.org,
            "period": period,
            "assessment": current,
            "card": card,
            "answers": by_sub,
            "can_edit": monitored.can_edit and (current is None or current.editable_by_institution),
            "can_verify": monitored.can_verify
            and current is not None
            and current.open_for_verification,
            "overdue": (current is None or current.status == Assessment.Status.DRAFT)
            and period.submission_deadline < timezone.localdate(),
        },
    )


@login_required
@require_POST
def assessment_submit(request: HttpRequest, slug: str, period_id: int) -> HttpResponse:
    _monitored, period, current = access_assessment(request.user, slug, period_id, edit=True)
    if current is None:
        messages.error(request, _("Fill in at least one value before submitting."))
    else:
        try:
            services.submit_assessment(assessment=current, actor=staff_user(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Submitted for verification."))
    return redirect("monitoring:assessment", slug=slug, period_id=period.pk)


@login_required
@require_POST
def assessment_review(request: HttpRequest, slug: str, period_id: int) -> HttpResponse:
    """Verifier: return the assessment for a response, or finish its verification."""
    monitored, period, current = access_assessment(request.user, slug, period_id)
    if not monitored.can_verify or current is None:
        raise Http404
    try:
        if request.POST.get("action") == "return":
            services.return_assessment(assessment=current, actor=staff_user(request))
            messages.success(request, _("Returned to the institution."))
        else:
            services.complete_verification(assessment=current, actor=staff_user(request))
            messages.success(request, _("Verification finished."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("monitoring:assessment", slug=slug, period_id=period.pk)


def _answer_context(
    request: HttpRequest, slug: str, period_id: int, sub_id: int, *, edit: bool = False
) -> dict[str, Any]:
    monitored, period, current = access_assessment(request.user, slug, period_id, edit=edit)
    sub = access_sub_indicator(period, sub_id)
    answer = None
    if current is not None:
        answer = current.answers.filter(sub_indicator=sub).prefetch_related("evidence").first()
    can_edit = monitored.can_edit and (current is None or current.editable_by_institution)
    can_verify = monitored.can_verify and current is not None and current.open_for_verification
    return {
        "m": monitored,
        "org": monitored.org,
        "period": period,
        "assessment": current,
        "sub": sub,
        "answer": answer,
        "can_edit": can_edit,
        "can_verify": can_verify,
    }


@login_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, slug: str, period_id: int, sub_id: int) -> HttpResponse:
    """One sub-indicator: the institution fills in its value; everyone sees the evidence."""
    ctx = _answer_context(request, slug, period_id, sub_id, edit=request.method == "POST")
    current = ctx["answer"]
    initial = (
        {
            "value": current.value,
            "note": current.note,
            "pending_document": current.pending_document,
            "response": current.response,
        }
        if current
        else {}
    )
    form = AnswerForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not ctx["can_edit"]:
            messages.error(
                request,
                _(
                    "This self-assessment is with the verifier; it can be changed once it is returned."
                ),
            )
            return redirect("monitoring:answer", slug=slug, period_id=period_id, sub_id=sub_id)
        if form.is_valid():
            try:
                services.save_answer(
                    organisation=ctx["org"],
                    period=ctx["period"],
                    sub=ctx["sub"],
                    actor=staff_user(request),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Saved as a draft."))
                return redirect("monitoring:answer", slug=slug, period_id=period_id, sub_id=sub_id)
    ctx |= {
        "form": form,
        # Prefixed: both forms have a description, and one page must not hold two ids alike.
        "file_form": EvidenceFileForm(prefix="file"),
        "link_form": EvidenceLinkForm(prefix="link"),
        # A new verdict starts with an empty note (the previous one is shown above the form):
        # prefilled, it was saved again with a verdict it did not explain.
        "verify_form": VerifyForm(
            initial={
                "verdict": current.verdict if current and current.verdict else "accepted",
                "verified_value": current.verified_value if current else None,
                "pending_document": current.pending_document if current else False,
            }
        ),
    }
    return render(request, "monitoring/answer.html", ctx)


@login_required
@require_POST
def evidence_add(request: HttpRequest, slug: str, period_id: int, sub_id: int) -> HttpResponse:
    ctx = _answer_context(request, slug, period_id, sub_id, edit=True)
    target = reverse("monitoring:answer", args=[slug, period_id, sub_id])
    if not ctx["can_edit"]:
        messages.error(request, _("Evidence cannot be changed while the verifier has it."))
        return redirect(target)
    try:
        if "link-url" in request.POST:
            link_form = EvidenceLinkForm(request.POST, prefix="link")
            if not link_form.is_valid():
                raise ValidationError([e for errors in link_form.errors.values() for e in errors])
            services.add_evidence_link(
                organisation=ctx["org"],
                period=ctx["period"],
                sub=ctx["sub"],
                actor=staff_user(request),
                **link_form.cleaned_data,
            )
        else:
            file_form = EvidenceFileForm(request.POST, request.FILES, prefix="file")
            if not file_form.is_valid():
                raise ValidationError([e for errors in file_form.errors.values() for e in errors])
            services.add_evidence_file(
                organisation=ctx["org"],
                period=ctx["period"],
                sub=ctx["sub"],
                upload=file_form.cleaned_data["file"],
                description=file_form.cleaned_data["description"],
                actor=staff_user(request),
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Evidence added."))
    return redirect(target)


@login_required
@require_POST
def answer_verify(request: HttpRequest, slug: str, period_id: int, sub_id: int) -> HttpResponse:
    ctx = _answer_context(request, slug, period_id, sub_id)
    target = reverse("monitoring:answer", args=[slug, period_id, sub_id])
    if not ctx["m"].can_verify:
        raise Http404
    current = ctx["answer"]
    form = VerifyForm(request.POST)
    if not ctx["can_verify"] or current is None:
        messages.error(request, _("Only a submitted self-assessment can be verified."))
    elif not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            services.verify_answer(
                answer=current,
                actor=staff_user(request),
                verdict=form.cleaned_data["verdict"],
                verified_value=form.cleaned_data["verified_value"],
                note=form.cleaned_data["note"],
                pending_document=form.cleaned_data["pending_document"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Verification saved."))
    return redirect(target)


@login_required
@require_safe
def evidence_download(request: HttpRequest, evidence_id: int) -> FileResponse:
    evidence = access_evidence(request.user, evidence_id)
    if evidence.kind == evidence.Kind.LINK:
        raise Http404
    return _stored_file(evidence.file, evidence.original_name, evidence.content_type)


@login_required
@require_POST
def evidence_remove(request: HttpRequest, evidence_id: int) -> HttpResponse:
    evidence = access_evidence(request.user, evidence_id, edit=True)
    answer = evidence.answer
    assessment_obj = answer.assessment
    try:
        services.remove_evidence(evidence=evidence, actor=staff_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Evidence removed."))
    return redirect(
        "monitoring:answer",
        slug=assessment_obj.organisation.slug,
        period_id=assessment_obj.period_id,
        sub_id=answer.sub_indicator_id,
    )


# --- Recommendations ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def recommendations(request: HttpRequest, slug: str) -> HttpResponse:
    """The institution's recommendations; a covering verifier records new ones."""
    monitored = access_monitored(request.user, slug)
    verifiers = [
        o for o in orgs_with_cap(request.user, Cap.MONITORING_VERIFY) if o in monitored.supervisors
    ]
    period = latest_period()
    areas = list(period.framework.areas.values_list("name", flat=True)) if period else []
    form = RecommendationForm(
        request.POST or None, institution=monitored.org, supervisors=verifiers, areas=areas
    )
    if request.method == "POST":
        if not verifiers:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                rec = services.create_recommendation(
                    institution=monitored.org,
                    actor=staff_user(request),
                    **data,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Recommendation recorded."))
                return redirect("monitoring:recommendation", recommendation_id=rec.pk)
    today = timezone.localdate()
    recs = list(
        Recommendation.objects.filter(institution=monitored.org).select_related(
            "responsible_unit", "issued_by", "meeting"
        )
    )
    return render(
        request,
        "monitoring/recommendations.html",
        {
            "m": monitored,
            "org": monitored.org,
            "recommendations": recs,
            "overdue": {r.pk for r in recs if r.is_overdue(today)},
            "counts": Counter(r.status for r in recs),
            "form": form,
            "can_create": bool(verifiers),
        },
    )


@login_required
@require_safe
def recommendation(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    rec = access_recommendation(request.user, recommendation_id)
    return render(
        request,
        "monitoring/recommendation.html",
        {
            "rec": rec,
            "org": rec.institution,
            "updates": rec.updates.select_related("author"),
            "overdue": rec.is_overdue(timezone.localdate()),
            "progress_form": ProgressForm(initial={"progress": rec.progress}),
            "status_form": RecommendationStatusForm(initial={"status": rec.status}),
            "can_progress": can_report_progress(request.user, rec) and not rec.is_closed,
            "can_manage": can_manage_recommendation(request.user, rec),
        },
    )


@login_required
@require_POST
def recommendation_progress(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    rec = access_recommendation(request.user, recommendation_id)
    if not can_report_progress(request.user, rec):
        raise Http404
    form = ProgressForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_progress(
                recommendation=rec,
                actor=staff_user(request),
                note=form.cleaned_data["note"],
                progress=form.cleaned_data["progress"],
                upload=form.cleaned_data["file"],
                url=form.cleaned_data["url"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Progress recorded."))
    else:
        messages.error(request, _form_errors(form))
    return redirect("monitoring:recommendation", recommendation_id=rec.pk)


@login_required
@require_POST
def recommendation_status(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    rec = access_recommendation(request.user, recommendation_id)
    if not can_manage_recommendation(request.user, rec):
        raise Http404
    form = RecommendationStatusForm(request.POST)
    if form.is_valid():
        services.set_recommendation_status(
            recommendation=rec, actor=staff_user(request), status=form.cleaned_data["status"]
        )
        messages.success(request, _("Status changed."))
    return redirect("monitoring:recommendation", recommendation_id=rec.pk)


@login_required
@require_safe
def progress_file(request: HttpRequest, update_id: int) -> FileResponse:
    update = access_progress_update(request.user, update_id)
    return _stored_file(update.file, update.file_name, update.file_type)


# --- TEPRA -------------------------------------------------------------------------------------


# Imports listed on the TEPRA page (of the year shown): a month re-imported a few times.
IMPORTS_LISTED = 50


def _year_from_query(request: HttpRequest) -> int:
    wanted = _query_int(request, "year")
    if wanted is not None and 2000 <= wanted <= 2100:
        return wanted
    return timezone.localdate().year


@login_required
@require_safe
def tepra_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Realisation per OPD with traffic lights, the S-curve, strategic projects, imports."""
    monitored = access_monitored(request.user, slug)
    org = monitored.org
    year = _year_from_query(request)
    months = tepra.months_with_data(org, year)
    wanted = _query_int(request, "month")
    # The month asked for when it has figures, else the latest one that has.
    month = wanted if wanted in months else max(months, default=None)
    rows = tepra.opd_progress(org, year, month) if month else []
    curve = tepra.s_curve(org, year)
    years = sorted(
        set(
            Realisation.objects.filter(organisation=org)
            .order_by()  # else the default ordering's columns join the DISTINCT
            .values_list("year", flat=True)
            .distinct()
        )
        | {year}
    )
    return render(
        request,
        "monitoring/tepra.html",
        {
            "m": monitored,
            "org": org,
            "year": year,
            "years": years,
            "month": month,
            "months": [(m, MONTHS[m]) for m in months],
            "rows": rows,
            "lagging": [r for r in rows if r.light == "red"],
            "curve": s_curve_geometry(curve) if month else None,
            "targets": sorted(tepra.quarter_targets(org, year).items()),
            "projects": StrategicProject.objects.filter(organisation=org, year=year),
            "imports": TepraImport.objects.filter(organisation=org, year=year)[:IMPORTS_LISTED],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tepra_import(request: HttpRequest, slug: str) -> HttpResponse:
    monitored = access_monitored(request.user, slug, edit=True)
    # The month just ended: the current one is still running when its figures are reported.
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    form = TepraImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"year": last_month.year, "month": last_month.month},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if (upload.size or 0) > tepra.MAX_IMPORT_BYTES:
                raise ValidationError(_("The file is too large; the limit is 5 MB."))
            record = tepra.import_realisation(
                organisation=monitored.org,
                year=form.cleaned_data["year"],
                month=form.cleaned_data["month"],
                file_name=upload.name or "upload",
                data=upload.read(),
                actor=staff_user(request),
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("monitoring:tepra_import_detail", import_id=record.pk)
    return render(
        request,
        "monitoring/tepra_import.html",
        {"m": monitored, "org": monitored.org, "form": form},
    )


@login_required
@require_safe
def tepra_import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    record = access_tepra_import(request.user, import_id)
    return render(
        request,
        "monitoring/tepra_import_detail.html",
        {"record": record, "org": record.organisation},
    )


@login_required
@require_safe
def tepra_template(request: HttpRequest) -> HttpResponse:
    return _attachment(tepra.TEMPLATE_CSV.encode(), "text/csv; charset=utf-8", "tepra-template.csv")


@login_required
@require_http_methods(["GET", "POST"])
def projects(request: HttpRequest, slug: str) -> HttpResponse:
    """Strategic projects: the list, and a form to add one (institution editors)."""
    monitored = access_monitored(request.user, slug, edit=request.method == "POST")
    form = ProjectForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        tepra.save_project(
            organisation=monitored.org, actor=staff_user(request), **form.cleaned_data
        )
        messages.success(request, _("Project saved."))
        return redirect("monitoring:projects", slug=slug)
    return render(
        request,
        "monitoring/projects.html",
        {
            "m": monitored,
            "org": monitored.org,
            "projects": StrategicProject.objects.filter(organisation=monitored.org).order_by(
                "-year", "opd_name", "package_name"
            ),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, edit=request.method == "POST")
    monitored = access_monitored(request.user, project.organisation.slug)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        tepra.save_project(
            organisation=project.organisation,
            actor=staff_user(request),
            project=project,
            **form.cleaned_data,
        )
        messages.success(request, _("Project saved."))
        return redirect("monitoring:projects", slug=project.organisation.slug)
    return render(
        request,
        "monitoring/project_edit.html",
        {"m": monitored, "org": project.organisation, "project": project, "form": form},
    )


# --- Exports for meetings ----------------------------------------------------------------------


def _institution_export_context(request: HttpRequest, slug: str) -> dict[str, Any]:
    monitored = access_monitored(request.user, slug)
    org = monitored.org
    history = trend(org)
    year = _year_from_query(request)
    month = tepra.latest_month(org, year)
    return {
        "org": org,
        "history": history,
        "latest": history[-1] if history else None,
        "recommendations": list(
            Recommendation.objects.filter(institution=org).select_related("responsible_unit")
        ),
        "today": timezone.localdate(),
        "year": year,
        "month": month,
        "opds": tepra.opd_progress(org, year, month) if month else [],
        "generated_at": timezone.localtime(),
    }


@login_required
@require_safe
def institution_xlsx(request: HttpRequest, slug: str) -> HttpResponse:
    ctx = _institution_export_context(request, slug)
    return _attachment(exports.institution_xlsx(ctx), XLSX, f"mcp-{slug}.xlsx")


@login_required
@require_safe
def institution_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    ctx = _institution_export_context(request, slug)
    return _attachment(exports.institution_pdf(request, ctx), "application/pdf", f"mcp-{slug}.pdf")
