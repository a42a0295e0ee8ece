"""Public pages, the staff dashboard and service endpoints."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_safe

from cegah.accounts.models import staff_user
from cegah.accounts.permissions import ROLE_CAPS
from cegah.core.navigation import org_links


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The public home page: what Cegah is and where and how to report."""
    from cegah.wbs.services import accepting_organisations

    return render(request, "core/home.html", {"recipients": accepting_organisations()[:60]})


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The staff shell: the user's organisations, with their roles and what each lets them open."""
    memberships = (
        staff_user(request)
        .memberships.select_related("organisation", "organisation__region")
        .order_by(  # type: ignore[union-attr]
            "organisation__name", "role"
        )
    )
    orgs: dict[int, dict[str, object]] = {}
    for membership in memberships:
        entry = orgs.setdefault(
            membership.organisation_id,
            {"organisation": membership.organisation, "roles": [], "caps": set()},
        )
        entry["roles"].append(membership.get_role_display())  # type: ignore[attr-defined]
        entry["caps"] |= {str(c) for c in ROLE_CAPS.get(membership.role, frozenset())}  # type: ignore[operator]
    for entry in orgs.values():
        entry["links"] = org_links(entry["organisation"].slug, entry["caps"])  # type: ignore[attr-defined,arg-type]
    return render(request, "core/dashboard.html", {"orgs": list(orgs.values())})


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for the reverse proxy; reveals nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def ratelimited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Shown when an anonymous endpoint's rate limit is hit."""
    if request.path.startswith("/api/"):
        from cegah.api.errors import error_response

        return error_response(
            request, 429, "rate_limited", gettext_noop("Too many requests. Try again later.")
        )
    return render(request, "429.html", status=429)
