"""Procurement risk pages for analysts: ranking, buyer, tenders, tender, trends, exports, imports.

Thin: parse, access helper (scope), one query or service call, render. Pages read only the Django
tables the scoring service writes; DuckDB is never opened by a web request.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cegah.accounts.models import staff_user
from cegah.accounts.permissions import Cap, has_cap
from cegah.core.compression import compressed
from cegah.core.spreadsheet import csv_row
from cegah.orgs.models import Organisation
from cegah.procurement import charts, exports, queries, services
from cegah.procurement.access import (
    Scope,
    access_buyer,
    access_import_job,
    access_importer,
    access_scope,
    access_tender,
    access_tender_export,
)
from cegah.procurement.formats import percent_points
from cegah.procurement.forms import (
    BuyerMappingForm,
    MapBuyerForm,
    RankingForm,
    TenderFilterForm,
    UploadForm,
    filter_errors,
    tender_filter,
)
from cegah.procurement.models import BID_STATUS_LABELS, TenderExport, TenderRisk
from cegah.procurement.scoring import Policy, buyer_facts, explain, tender_facts

MAPPING_ERRORS_SHOWN = 50  # problems of a mapping file listed on the page (the rest counted)


def _policy() -> tuple[Policy, dict[str, Any]]:
    run = services.current_run()
    if run is None:
        return Policy(), {}
    # Runs scored before R003's thresholds were kept with them quote today's settings.
    meta = run.meta if "R003" in run.meta else {**services.explained_thresholds(), **run.meta}
    return Policy.from_dict(run.policy), meta


def _tender_flags(tender: TenderRisk, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a tender's flags with their title and reason, quoting the tender's facts."""
    return [
        {
            **explain(
                f["code"],
                f["value"],
                meta,
                method_details=tender.method_details,
                days=tender.offer_period_days,
                facts=tender_facts(tender, f),
            ),
            "points": f["points"],
            "same_as": f.get("same_as"),
            "value": f["value"],
        }
        for f in tender.flags
    ]


def _buyer_flags(flags: list[dict[str, Any]], meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a satker's flags with their title and reason."""
    return [
        {
            **explain(f["code"], f["value"], meta, buyer=True, facts=buyer_facts(f)),
            "points": f["points"],
        }
        for f in flags
    ]


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _year(request: HttpRequest, scope: Scope) -> int | None:
    try:
        wanted = int(request.GET.get("year", ""))
    except ValueError:
        wanted = None
    return queries.default_year(scope, wanted)


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The user's organisations where they analyse procurement (one: straight to its ranking)."""
    user = staff_user(request)
    orgs = [
        m.organisation
        for m in user.memberships.select_related("organisation").order_by("organisation__name")
        if m.organisation.is_active and has_cap(user, m.organisation, Cap.PROCUREMENT_ANALYSE)
    ]
    unique = list({o.pk: o for o in orgs}.values())
    if len(unique) == 1:
        return redirect("procurement:ranking", unique[0].slug)
    return render(request, "procurement/index.html", {"orgs": unique})


@login_required
@require_safe
@compressed
def ranking(request: HttpRequest, slug: str) -> HttpResponse:
    scope = access_scope(request.user, slug)
    year = _year(request, scope)
    form = RankingForm(request.GET or None, years=queries.years(scope))
    # The valid filters apply even when another is not valid (a year no longer scored, from an
    # old link): its error is shown on the form, and the zone, level and name still hold.
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        data = dict(form.cleaned_data)  # the fields that are valid
    level = data.get("level") or "satker"
    policy, _meta = _policy()
    context: dict[str, Any] = {
        "org": scope.organisation,
        "scope": scope,
        "form": form,
        "year": year,
        "level": level,
        "zones": queries.zone_counts(scope, year),
        "policy": policy,
        "run": services.current_run(),
        "query": _query_without_page(request),
        # Filtered to nothing is not "no data yet".
        "filtered": bool(data.get("zone") or data.get("q")) and bool(queries.years(scope)),
    }
    if level == "institution":
        context["institutions"] = queries.institution_ranking(
            scope, year, policy, zone=data.get("zone", ""), q=data.get("q", "")
        )
        context["zones"] = queries.institution_zone_counts(scope, year, policy)
    else:
        rows = queries.buyer_ranking(scope, year, zone=data.get("zone", ""), q=data.get("q", ""))
        context["page"] = Paginator(rows, 50).get_page(request.GET.get("page"))
    template = "procurement/_ranking_rows.html" if request.htmx else "procurement/ranking.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_safe
@compressed
def buyer_detail(request: HttpRequest, slug: str, buyer_pk: int) -> HttpResponse:
    scope, buyer = access_buyer(request.user, slug, buyer_pk)
    policy, meta = _policy()
    risks = list(buyer.risks.order_by("-year"))
    for risk in risks:
        risk.share_points = percent_points(risk.share_at_risk)  # type: ignore[attr-defined]
        risk.explained = _buyer_flags(risk.flags, meta)  # type: ignore[attr-defined]
    # The year asked for (the ranking and tender pages link with theirs), else the newest.
    years = [r.year for r in risks]
    try:
        wanted: int | None = int(request.GET.get("year", ""))
    except ValueError:
        wanted = None
    year = wanted if wanted in years else (years[0] if years else None)
    # The chosen year first; the others follow, newest first.
    risks.sort(key=lambda r: (r.year != year, -r.year))
    top = scope.tenders().filter(buyer=buyer, year=year).order_by("-score", "-value")[:20]
    context = {
        "org": scope.organisation,
        "scope": scope,
        "buyer": buyer,
        "risks": risks,
        "year": year,
        "years": years,
        "top": top,
        "policy": policy,
        "chart": charts.monthly_svg(queries.monthly(scope, year, policy.at_risk, buyer.pk).months),
        "map_form": MapBuyerForm(
            initial={"organisation": buyer.organisation.slug if buyer.organisation else ""}
        )
        if scope.everything
        else None,
    }
    return render(request, "procurement/buyer.html", context)


@login_required
@require_POST
def buyer_map(request: HttpRequest, slug: str, buyer_pk: int) -> HttpResponse:
    scope = access_importer(request.user, slug)
    _scope, buyer = access_buyer(request.user, slug, buyer_pk)
    form = MapBuyerForm(request.POST)
    if form.is_valid():
        target_slug = form.cleaned_data["organisation"].strip()
        target = None
        if target_slug:
            target = Organisation.objects.filter(slug=target_slug, is_active=True).first()
            if target is None:
                messages.error(request, _("No organisation has that short name."))
                return redirect("procurement:buyer", scope.organisation.slug, buyer.pk)
        try:
            services.map_buyer(
                buyer, target, actor=staff_user(request), acting_organisation=scope.organisation
            )
        except services.MappingBusy:
            messages.error(request, _busy_message())
        else:
            messages.success(request, _("The buyer's mapping was saved."))
    return redirect("procurement:buyer", scope.organisation.slug, buyer.pk)


def _busy_message() -> str:
    return _(
        "The procurement data is being rescored, which holds the buyers until it ends (a few"
        " minutes for national data). Nothing was changed: try again once it has finished."
    )


def _tender_form(request: HttpRequest, scope: Scope) -> tuple[TenderFilterForm, dict[str, Any]]:
    return tender_filter(scope, request.GET)


@login_required
@require_safe
@compressed
def tender_list(request: HttpRequest, slug: str) -> HttpResponse:
    scope = access_scope(request.user, slug)
    form, data = _tender_form(request, scope)
    template = "procurement/_tender_rows.html" if request.htmx else "procurement/tender_list.html"  # type: ignore[attr-defined]
    return render(request, template, _tender_list_context(request, scope, form, data))


def _tender_list_context(
    request: HttpRequest, scope: Scope, form: TenderFilterForm, data: dict[str, Any]
) -> dict[str, Any]:
    """Return what the tender list shows: the valid filters applied, the others' errors."""
    tenders = queries.filter_tenders(scope, data)
    page = Paginator(tenders, 50).get_page(request.GET.get("page"))
    _policy_obj, meta = _policy()
    for t in page:
        t.explained = _tender_flags(t, meta)  # type: ignore[attr-defined]
    buyer = None
    if data.get("buyer"):
        buyer = scope.buyers().filter(pk=data["buyer"]).first()
    return {
        "org": scope.organisation,
        "form": form,
        "filter_errors": filter_errors(form),
        "page": page,
        "buyer": buyer,
        "query": _query_without_page(request),
    }


@login_required
@require_safe
def tender_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponseBase:
    scope = access_scope(request.user, slug)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    form, data = _tender_form(request, scope)
    if form.errors:
        # Never the whole list because of one bad value: the list page, with the errors.
        context = {**_tender_list_context(request, scope, form, data), "export_refused": True}
        return render(request, "procurement/tender_list.html", context, status=400)
    tenders = queries.filter_tenders(scope, data)
    if fmt == "csv":
        rows = exports.rows(tenders, limit=None)
        return _csv_download(chain([exports.header()], rows), "tenders.csv")
    count = tenders.count()
    if count > services.EXPORT_DIRECT_ROWS:
        # Too large to build while the request waits: offer to prepare it in the background.
        return render(
            request,
            "procurement/export_prepare.html",
            {
                "org": scope.organisation,
                "count": min(count, exports.MAX_ROWS),
                "capped": count > exports.MAX_ROWS,
                "max_rows": exports.MAX_ROWS,
                "query": _export_query(request.GET),
            },
        )
    response = HttpResponse(
        exports.xlsx(tenders),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="tenders.xlsx"'
    return response


def _export_query(params: QueryDict) -> str:
    """Return the tender list's filters in ``params`` as a query string: the filter fields only
    (not the page), in a fixed order, so that the same filters give the same export."""
    return urlencode(
        [
            (name, value)
            for name in TenderFilterForm.base_fields
            for value in params.getlist(name)[:1]
            if value
        ]
    )


@login_required
@require_http_methods(["GET", "POST"])
def tender_exports(request: HttpRequest, slug: str) -> HttpResponse:
    """The analyst's prepared exports in this organisation; POST asks for a new one."""
    scope = access_scope(request.user, slug)
    if request.method == "POST":
        query = _export_query(QueryDict(request.POST.get("query", "")[:2000]))
        try:
            job = services.request_export(scope, query, actor=staff_user(request))
        except services.ExportRefused as exc:
            messages.error(request, str(exc))
        else:
            return redirect("procurement:export", scope.organisation.slug, job.pk)
    jobs = TenderExport.objects.filter(
        organisation=scope.organisation, created_by=staff_user(request)
    )
    return render(
        request,
        "procurement/exports.html",
        {"org": scope.organisation, "jobs": jobs[:20], "keep_hours": _keep_hours()},
    )


def _keep_hours() -> int:
    return int(services.EXPORT_KEEP.total_seconds() // 3600)


@login_required
@require_safe
def tender_export_job(request: HttpRequest, slug: str, export_id: int) -> HttpResponse:
    scope, job = access_tender_export(request.user, slug, export_id)
    partial = request.htmx  # type: ignore[attr-defined]
    template = "procurement/_export_progress.html" if partial else "procurement/export_job.html"
    context = {"org": scope.organisation, "job": job, "keep_hours": _keep_hours()}
    if job.query:
        context["filters"] = _filters_shown(scope, job.query)
    return render(request, template, context)


def _filters_shown(scope: Scope, query: str) -> list[tuple[str, str]]:
    """Return (label, value) of each filter of an export, as the list's form shows them."""
    form, data = tender_filter(scope, QueryDict(query))
    shown = []
    for name, value in data.items():
        if value in (None, ""):
            continue
        field = form.fields[name]
        choices = dict(getattr(field, "choices", []) or [])
        if name == "buyer":
            buyer = scope.buyers().filter(pk=value).first()
            shown.append((str(_("Satker")), str(buyer) if buyer else str(value)))
        else:
            shown.append(
                (str(field.label), str(choices.get(value, choices.get(str(value), value))))
            )
    return shown


@login_required
@require_safe
def tender_export_download(request: HttpRequest, slug: str, export_id: int) -> HttpResponseBase:
    scope, job = access_tender_export(request.user, slug, export_id)
    path = services.export_file(job)
    if path is None:
        raise Http404
    name = (
        f"tenders-{scope.organisation.slug}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _csv_download(rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    """Stream ``rows`` as a CSV download that Excel opens as UTF-8."""
    writer = csv.writer(exports.Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # Excel reads the file as UTF-8 only with a byte order mark
        for row in rows:
            yield writer.writerow(csv_row(row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_safe
def tender_detail(request: HttpRequest, slug: str, tender_id: int) -> HttpResponse:
    scope, tender = access_tender(request.user, slug, tender_id)
    policy, meta = _policy()
    flags = _tender_flags(tender, meta)
    buyer_risk = tender.buyer.risks.filter(year=tender.year or 0).first() if tender.buyer else None
    buyer_flags = _buyer_flags(buyer_risk.flags if buyer_risk else [], meta)
    hps = tender.hps or 0
    bids = [
        {
            **b,
            "best": b.get("negotiated") or b.get("corrected") or b.get("amount"),
            # Scorings before currencies were kept: the tender's.
            "currency": b.get("currency") or tender.currency,
            "date": dt.datetime.fromisoformat(b["date"]) if b.get("date") else None,
            "status_label": str(
                BID_STATUS_LABELS.get(b.get("status") or "", b.get("status") or "")
            ),
        }
        for b in tender.bids
    ]
    for b in bids:
        b["of_hps"] = (b["best"] / hps) if hps and b["best"] else None
    context = {
        "org": scope.organisation,
        "tender": tender,
        "flags": flags,
        "buyer_risk": buyer_risk,
        "buyer_flags": buyer_flags,
        "bids": bids,
        "policy": policy,
        "contract_of_hps": (tender.value / hps) if hps and tender.value else None,
    }
    return render(request, "procurement/tender.html", context)


@login_required
@require_safe
@compressed
def trends(request: HttpRequest, slug: str) -> HttpResponse:
    scope = access_scope(request.user, slug)
    year = _year(request, scope)
    policy, _meta = _policy()
    monthly = queries.monthly(scope, year, policy.at_risk)
    context = {
        "org": scope.organisation,
        "year": year,
        "years": queries.years(scope),
        "monthly": monthly,
        "other_currency": queries.other_currency_tenders(scope, year),
        "chart": charts.monthly_svg(monthly.months),
        "policy": policy,
    }
    return render(request, "procurement/trends.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest, slug: str) -> HttpResponse:
    scope = access_importer(request.user, slug)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_import(
                scope.organisation, form.cleaned_data["file"], actor=staff_user(request)
            )
        except services.UploadRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("procurement:import_job", scope.organisation.slug, job.pk)
    return _imports_page(request, scope, form, BuyerMappingForm())


def _imports_page(
    request: HttpRequest,
    scope: Scope,
    form: UploadForm,
    mapping_form: BuyerMappingForm,
    mapping_errors: list[tuple[int, str, str]] | None = None,
) -> HttpResponse:
    jobs = scope.organisation.procurement_imports.select_related("created_by")[:20]
    errors = mapping_errors or []
    return render(
        request,
        "procurement/imports.html",
        {
            "org": scope.organisation,
            "form": form,
            "mapping_form": mapping_form,
            "mapping_errors": errors[:MAPPING_ERRORS_SHOWN],
            "mapping_errors_unlisted": max(0, len(errors) - MAPPING_ERRORS_SHOWN),
            "jobs": jobs,
            "run": services.current_run(),
        },
    )


@login_required
@require_safe
def buyers_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Every buyer with its mapping, as the CSV that ``buyers_mapping`` takes back."""
    access_importer(request.user, slug)
    return _csv_download(services.buyers_csv_rows(), "buyers.csv")


@login_required
@require_POST
def buyers_mapping(request: HttpRequest, slug: str) -> HttpResponse:
    """Map many buyers at once from a CSV file (all or nothing)."""
    scope = access_importer(request.user, slug)
    form = BuyerMappingForm(request.POST, request.FILES)
    if not form.is_valid():
        return _imports_page(request, scope, UploadForm(), form)
    upload = form.cleaned_data["mapping"]
    data = upload.read(services.MAPPING_MAX_BYTES + 1)
    try:
        result = services.map_buyers_from_csv(
            data,
            file_name=upload.name or "",
            actor=staff_user(request),
            acting_organisation=scope.organisation,
        )
    except services.MappingBusy:
        messages.error(request, _busy_message())
        return _imports_page(request, scope, UploadForm(), form)
    if result.errors:
        messages.error(request, _("Nothing was changed: the file has problems, listed below."))
        return _imports_page(request, scope, UploadForm(), form, result.errors)
    messages.success(
        request,
        ngettext(
            "%(mapped)s buyer mapped, %(unmapped)s unmapped, %(unchanged)s unchanged.",
            "%(mapped)s buyers mapped, %(unmapped)s unmapped, %(unchanged)s unchanged.",
            result.mapped,
        )
        % {"mapped": result.mapped, "unmapped": result.unmapped, "unchanged": result.unchanged},
    )
    return redirect("procurement:imports", scope.organisation.slug)


@login_required
@require_safe
def import_job(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    scope, job = access_import_job(request.user, slug, job_id)
    partial = request.htmx  # type: ignore[attr-defined]
    template = "procurement/_import_progress.html" if partial else "procurement/import_job.html"
    return render(request, template, {"org": scope.organisation, "job": job})
