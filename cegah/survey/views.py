"""Coordinator pages: editions, questionnaires, loci, frames, samples, invitations, response
rates, integrity review, index and reports. Thin: parse, access helper, one service, render.

Nothing here shows a respondent's contact data next to an answer: the frame is shown as counts,
and flagged responses are shown without their unit when the unit has fewer than MIN_CELL.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cegah.accounts.models import staff_user
from cegah.accounts.permissions import Cap, has_cap
from cegah.core.compression import compressed
from cegah.orgs.access import access_organisation
from cegah.survey import exports, frames, indexing, runtime, services
from cegah.survey.access import (
    MIN_CELL,
    access_edition,
    access_flagged_response,
    access_locus,
    access_registration,
)
from cegah.survey.forms import (
    EditionForm,
    FrameForm,
    LocusForm,
    QuestionnaireForm,
    RecommendationForm,
    SettingsForm,
)
from cegah.survey.models import (
    Edition,
    FrameImport,
    Invitation,
    Locus,
    Questionnaire,
    Respondent,
    Response,
    Sample,
)
from cegah.survey.scoring.constants import DIMENSION_LABELS, DIMENSIONS
from cegah.survey.scoring.errors import ConfigError, QuestionnaireError

UNIT_ROWS_SHOWN = 300  # unit rows on an edition page (the most lagging, when there are more)


def _edition_url(edition: Edition) -> str:
    return reverse("survey:edition", args=[edition.organisation.slug, edition.year])


def _locus_url(locus: Locus) -> str:
    edition = locus.edition
    return reverse(
        "survey:locus", args=[edition.organisation.slug, edition.year, locus.organisation.slug]
    )


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    orgs = [
        m.organisation
        for m in user.memberships.select_related("organisation")
        if has_cap(user, m.organisation, Cap.SURVEY_COORDINATE)
    ]
    unique = list({o.pk: o for o in orgs}.values())
    editions = Edition.objects.filter(organisation__in=unique).select_related("organisation")
    return render(request, "survey/home.html", {"orgs": unique, "editions": editions})


@login_required
@require_http_methods(["GET", "POST"])
def editions(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug, Cap.SURVEY_COORDINATE)
    form = EditionForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        try:
            edition = services.create_edition(
                org, form.cleaned_data["year"], form.cleaned_data["title"], staff_user(request)
            )
        except ValidationError as exc:
            form.add_error("year", exc)
        else:
            return redirect(_edition_url(edition))
    return render(
        request,
        "survey/editions.html",
        {"org": org, "form": form, "editions": Edition.objects.filter(organisation=org)},
    )


@login_required
@require_safe
@compressed
def edition(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    rows = services.response_rates(ed)
    totals = services.rollup(rows)
    lagging = [r for r in rows if r.lagging(ed.lagging_below)]
    # A national edition has tens of thousands of unit rows, and this part of the page reloads
    # every 30 s: beyond a few hundred, only the most lagging are listed here (every row is on its
    # institution's page).
    unit_rows = rows
    if len(rows) > UNIT_ROWS_SHOWN:
        worst = sorted(lagging, key=lambda r: (r.progress, r.locus.organisation.name))
        unit_rows = worst[:UNIT_ROWS_SHOWN]
    context = {
        "edition": ed,
        "rows": unit_rows,
        "rows_total": len(rows),
        "rows_hidden": len(rows) - len(unit_rows),
        "totals": totals,
        "lagging": lagging,
        "lagging_keys": {(r.locus.pk, r.unit.pk if r.unit else 0, r.group) for r in lagging},
        "candidates": services.locus_candidates(ed)[:500],
        "locus_form": LocusForm(candidates=services.locus_candidates(ed)),
        "responses": Response.objects.filter(edition=ed).count(),
        "now": timezone.now(),
    }
    template = "survey/_rates.html" if getattr(request, "htmx", False) else "survey/edition.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def edition_settings(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    form = SettingsForm(
        request.POST or None,
        instance=Edition.objects.get(pk=ed.pk),
        dimensions={g: q.dimensions for g, q in indexing.questionnaires(ed).items()},
        loci=[
            (loc.organisation.slug, loc.organisation.name)
            for loc in ed.loci.select_related("organisation")
        ],
    )
    if request.method == "POST" and form.is_valid():
        services.update_settings(ed, form.changes(), staff_user(request))
        messages.success(request, _("Settings saved."))
        return redirect(_edition_url(ed))
    scheme = indexing.SCHEME_LABELS.get(ed.category_scheme, ed.category_scheme)
    return render(request, "survey/settings.html", {"edition": ed, "form": form, "scheme": scheme})


@login_required
@require_http_methods(["GET", "POST"])
def questionnaires(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    form = QuestionnaireForm(request.POST or None, request.FILES or None)
    issues: list[Any] = []
    if request.method == "POST" and request.POST.get("default"):
        try:
            services.use_default_questionnaire(ed, request.POST["default"], staff_user(request))
        except (ValidationError, KeyError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("survey:questionnaires", slug, year)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.upload_questionnaire(
                ed, form.cleaned_data["group"], upload.name, upload.read(), staff_user(request)
            )
        except QuestionnaireError as exc:
            issues = exc.issues
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Questionnaire imported."))
            return redirect("survey:questionnaires", slug, year)
    rows = []
    lang = get_language() or "id"
    for q in Questionnaire.objects.filter(edition=ed).order_by("pk"):
        rows.append({"row": q, "parsed": runtime.load_stored(q)})
    return render(
        request,
        "survey/questionnaires.html",
        {"edition": ed, "form": form, "issues": issues, "rows": rows, "lang": lang},
    )


@login_required
@require_POST
def locus_add(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    form = LocusForm(request.POST, candidates=services.locus_candidates(ed))
    if form.is_valid():
        org = form.cleaned_data["organisation"]
        kind = form.cleaned_data["institution_type"] or services.default_institution_type(org)
        try:
            locus = services.add_locus(
                ed, org, kind, form.cleaned_data["size"], staff_user(request)
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            return redirect(_locus_url(locus))
    else:
        messages.error(request, _("Choose an institution."))
    return redirect(_edition_url(ed))


@login_required
@require_safe
def locus(request: HttpRequest, slug: str, year: int, locus: str) -> HttpResponse:
    loc = access_locus(request.user, slug, year, locus)
    rows = services.response_rates(loc.edition, loc)
    frame = (
        Respondent.objects.filter(locus=loc)
        .values("unit__name", "group", "source")
        .annotate(n=Count("pk"))
        .order_by("unit__name", "group")
    )
    delivery = (
        Invitation.objects.filter(locus=loc, sends__gt=0)
        .values("delivery")
        .annotate(n=Count("pk"))
        .order_by("delivery")
    )
    sample = Sample.objects.filter(locus=loc).first()
    context = {
        "edition": loc.edition,
        "locus": loc,
        "rows": rows,
        "frame": frame,
        "frame_total": Respondent.objects.filter(locus=loc).count(),
        "imports": FrameImport.objects.filter(locus=loc)[:5],
        "sample": sample,
        "added_since_draw": services.added_since_draw(sample) if sample else 0,
        "unsent": Invitation.objects.filter(locus=loc, sends=0, opted_out=False).count(),
        "sent": Invitation.objects.filter(locus=loc, sends__gt=0).count(),
        "delivery": delivery,
        "pending_registrations": Respondent.objects.filter(
            locus=loc, screening=Respondent.Screening.PENDING
        ).count(),
        "frame_form": FrameForm(),
        "lagging_below": loc.edition.lagging_below,
    }
    return render(request, "survey/locus.html", context)


@login_required
@require_POST
def frame_import(request: HttpRequest, slug: str, year: int, locus: str) -> HttpResponse:
    loc = access_locus(request.user, slug, year, locus)
    form = FrameForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        record = services.import_frame(loc, upload.name, upload.read(), staff_user(request))
        _say_import(request, record)
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(_locus_url(loc))


def _say_import(request: HttpRequest, record: FrameImport) -> None:
    """Flash what became of an import: refused (and why), or what was added."""
    file_level = [p for p in record.problems if p["code"] in frames.FILE_PROBLEMS]
    if file_level:
        messages.error(
            request,
            _("The file was not imported: %(problem)s Nothing was saved.")
            % {"problem": frames.problem_text(file_level[0])},
        )
    elif record.refused:
        messages.error(
            request,
            ngettext(
                "The file was not imported: %(rows)s row has problems, listed below by row and "
                "column. Nothing was saved: correct the file and import it again.",
                "The file was not imported: %(rows)s rows have problems, listed below by row and "
                "column. Nothing was saved: correct the file and import it again.",
                record.rejected,
            )
            % {"rows": record.rejected},
        )
    elif record.encoding:
        messages.success(
            request,
            _("%(added)s added, %(merged)s duplicates merged (the file was read as %(encoding)s).")
            % {"added": record.added, "merged": record.merged, "encoding": record.encoding},
        )
    else:
        messages.success(
            request,
            _("%(added)s added, %(merged)s duplicates merged.")
            % {"added": record.added, "merged": record.merged},
        )


@login_required
@require_POST
def sample_draw(request: HttpRequest, slug: str, year: int, locus: str) -> HttpResponse:
    loc = access_locus(request.user, slug, year, locus)
    seed_text = request.POST.get("seed", "").strip()
    try:
        seed = int(seed_text) if seed_text else None
        sample = services.draw_sample(loc, staff_user(request), seed)
    except ValueError:
        messages.error(request, _("The seed must be a whole number."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Sample drawn: %(size)s people (seed %(seed)s).")
            % {"size": sample.size, "seed": sample.seed},
        )
    return redirect(_locus_url(loc))


@login_required
@require_POST
def invite(request: HttpRequest, slug: str, year: int, locus: str) -> HttpResponse:
    loc = access_locus(request.user, slug, year, locus)
    try:
        queued = services.send_invitations(loc, staff_user(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("%(n)s invitations queued.") % {"n": queued})
    return redirect(_locus_url(loc))


@login_required
@require_http_methods(["GET", "POST"])
def registrations(request: HttpRequest, slug: str, year: int, locus: str) -> HttpResponse:
    import segno

    loc = access_locus(request.user, slug, year, locus)
    if request.method == "POST":
        try:
            services.set_registration_open(
                loc, request.POST.get("open") == "1", staff_user(request)
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        return redirect("survey:registrations", slug, year, locus)
    url = request.build_absolute_uri(reverse("survey:register", args=[loc.registration_code]))
    pending = Respondent.objects.filter(
        locus=loc, source=Respondent.Source.SELF, screening=Respondent.Screening.PENDING
    ).select_related("unit")
    # Screening needs the name to spot brokers and staff posing as users; it is shown here only,
    # and these people have not answered anything yet.
    people = [
        {"r": r, "contact": services.sealing.unseal_contact(r.public_id, r.contact_sealed)}
        for r in pending[:200]
    ]
    decided = (
        Respondent.objects.filter(locus=loc, source=Respondent.Source.SELF)
        .values("screening")
        .annotate(n=Count("pk"))
    )
    return render(
        request,
        "survey/registrations.html",
        {
            "edition": loc.edition,
            "locus": loc,
            "url": url,
            "qr_svg": segno.make(url, error="m").svg_inline(scale=5, dark="#111", light="#fff"),
            "people": people,
            "decided": decided,
        },
    )


@login_required
@require_POST
def screen(
    request: HttpRequest, slug: str, year: int, locus: str, respondent_id: UUID
) -> HttpResponse:
    respondent = access_registration(request.user, slug, year, locus, respondent_id)
    services.screen_registration(respondent, request.POST.get("accept") == "1", staff_user(request))
    return redirect("survey:registrations", slug, year, locus)


@login_required
@require_safe
def export(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    data = exports.rates_xlsx(ed, services.response_rates(ed))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="spi-{ed.year}-respons.xlsx"'
    return response


@login_required
@require_POST
def alert(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    if ed.status == Edition.Status.CLOSED:
        messages.error(request, _("The edition is closed: no alerts about lagging units are sent."))
        return redirect(_edition_url(ed))
    sent = services.send_lagging_alerts(ed, staff_user(request), force=True)
    messages.success(request, _("Alert sent to %(n)s coordinators.") % {"n": sent})
    return redirect(_edition_url(ed))


@login_required
@require_http_methods(["GET", "POST"])
@compressed
def index(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    if request.method == "POST":
        # The pool is flushed by its own rules only: forcing it would let a single fresh response
        # be told apart from the others.
        services.flush_responses(ed.pk)
        indexing.refresh_flags(ed)
        try:
            indexing.compute(ed, staff_user(request))
        except indexing.WeightsError as exc:
            messages.error(request, _("The index was not computed: %(problem)s") % {"problem": exc})
        except ConfigError as exc:  # any other check of the engine's (bilingual message)
            messages.error(
                request,
                _("The index was not computed: the edition's settings are not usable (%(detail)s).")
                % {"detail": exc},
            )
        else:
            messages.success(request, _("Index computed."))
        return redirect("survey:index", slug, year)
    run = ed.index_runs.first()
    institutions = sorted(
        (run.results.get("institutions", {}) if run else {}).items(),
        key=lambda kv: -kv[1]["index"],
    )
    return render(
        request,
        "survey/index.html",
        {
            "edition": ed,
            "run": run,
            "institutions": institutions,
            "bands": ed.category_bands,
            "withheld": run.results.get("withheld", []) if run else [],
            "min_responses": indexing.MIN_RESPONSES,
            "absent": indexing.absent_from(ed, run),
            "mix_batch": services.MIX_BATCH,
            "burst_minutes": int(services.BURST_WINDOW.total_seconds() // 60),
        },
    )


@login_required
@require_safe
def report_pdf(request: HttpRequest, slug: str, year: int, locus: str) -> HttpResponse:
    loc = access_locus(request.user, slug, year, locus)
    run = loc.edition.index_runs.first()
    result = run.institution(loc.organisation.slug) if run else None
    if run is None:
        messages.error(request, _("Compute the index first."))
        return redirect("survey:index", slug, year)
    if result is None:
        messages.error(
            request,
            _(
                "%(institution)s is not in the last computation of the index: the index page "
                "says why (answers still in the mixing pool, or too few)."
            )
            % {"institution": loc.organisation.name},
        )
        return redirect("survey:index", slug, year)
    pdf = exports.report_pdf(request, loc, run, result)  # type: ignore[arg-type]
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="spi-{loc.edition.year}-{loc.organisation.slug}.pdf"'
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def integrity(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    if request.method == "POST":
        services.flush_responses(ed.pk)
        n = indexing.refresh_flags(ed)
        messages.success(request, _("%(n)s responses are flagged.") % {"n": n})
        return redirect("survey:integrity", slug, year)
    flagged = list(
        Response.objects.filter(edition=ed)
        .exclude(flags=[])
        .select_related("locus__organisation", "unit")
        .order_by("locus__organisation__name", "group", "review")[:300]
    )
    cells = {
        (c["unit_id"], c["group"]): c["n"]
        for c in Response.objects.filter(edition=ed)
        .values("unit_id", "group")
        .annotate(n=Count("pk"))
    }
    shown = [
        {"r": r, "unit": r.unit.name if cells.get((r.unit_id, r.group), 0) >= MIN_CELL else ""}
        for r in flagged
    ]
    suspicion = indexing.coaching_scores(ed)
    return render(
        request,
        "survey/integrity.html",
        {
            "edition": ed,
            "flagged": shown,
            "suspicion": sorted(suspicion.items(), key=lambda kv: -kv[1]),
            "names": {
                loc.organisation.slug: loc.organisation.name
                for loc in ed.loci.select_related("organisation")
            },
        },
    )


@login_required
@require_POST
def review(request: HttpRequest, slug: str, year: int, response_id: UUID) -> HttpResponse:
    response = access_flagged_response(request.user, slug, year, response_id)
    try:
        services.review_response(response, request.POST.get("decision", ""), staff_user(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("survey:integrity", slug, year)


@login_required
@require_http_methods(["GET", "POST"])
def recommendations(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    ed = access_edition(request.user, slug, year)
    lang = get_language() or "id"
    labels = {d: DIMENSION_LABELS[d][1 if lang == "en" else 0] for d in DIMENSIONS}
    current = {
        d: [{"id": r.text_id, "en": r.text_en} for r in recs]
        for d, recs in indexing.recommendations(ed).items()
    }
    form = RecommendationForm(request.POST or None, current=current, labels=labels)
    if request.method == "POST" and form.is_valid():
        services.update_settings(ed, {"recommendations": form.texts()}, staff_user(request))
        messages.success(request, _("Recommendations saved; recompute the index to use them."))
        return redirect("survey:recommendations", slug, year)
    return render(request, "survey/recommendations.html", {"edition": ed, "form": form})
