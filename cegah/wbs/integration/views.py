"""Handler actions on duplicate candidates and groups. Thin: parse, access helper, one service
call, back to the case page (where the panel shows the result)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cegah.accounts.models import staff_user
from cegah.wbs.integration import services
from cegah.wbs.integration.access import access_candidate, access_group_as_lead


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise Http404 from None


def _back(slug: str, report_id: UUID) -> HttpResponse:
    return redirect("wbs:case", slug=slug, report_id=report_id)


@login_required
@require_POST
def decide(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    candidate, mine = access_candidate(
        request.user, slug, report_id, _int(request.POST.get("candidate"))
    )
    decision = request.POST.get("decision", "")
    try:
        services.decide_candidate(candidate, mine, decision, staff_user(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if decision == "confirm":
            messages.success(request, _("Confirmed as a duplicate."))
        else:
            messages.success(request, _("Dismissed: not a duplicate."))
    return _back(slug, report_id)


@login_required
@require_POST
def group_lead(request: HttpRequest, slug: str, report_id: UUID) -> HttpResponse:
    group, mine = access_group_as_lead(request.user, slug, report_id)
    try:
        services.set_group_lead(group, mine, _int(request.POST.get("lead")), staff_user(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The lead was handed over."))
    return _back(slug, report_id)
