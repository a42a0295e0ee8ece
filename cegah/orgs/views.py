"""Organisation pages: overview, members, audit trail and API tokens. Thin: parse, access, service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cegah.accounts import services as account_services
from cegah.accounts.models import Membership, User, staff_user
from cegah.accounts.permissions import Cap, capabilities
from cegah.core.models import AuditEntry
from cegah.core.navigation import org_links
from cegah.orgs.access import access_api_token, access_membership, access_organisation
from cegah.orgs.forms import AddMemberForm, ApiTokenForm, AuditFilterForm


@login_required
@require_safe
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug)
    units = org.children.filter(is_active=True).order_by("name")
    caps = {str(c) for c in capabilities(request.user, org)}
    return render(
        request,
        "orgs/detail.html",
        {"org": org, "units": units, "links": org_links(org.slug, caps)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug, Cap.MEMBERS_MANAGE)
    form = AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = User.objects.filter(username__iexact=data["username"]).first()
            if user is None:
                if not data["password"]:
                    raise ValidationError(
                        _("No such user. Give a name and an initial password to create one.")
                    )
                user = account_services.create_user(
                    username=data["username"],
                    password=data["password"],
                    actor=staff_user(request),
                    organisation=org,
                    full_name=data["full_name"],
                    email=data["email"],
                )
            account_services.add_member(
                organisation=org, user=user, role=data["role"], actor=staff_user(request)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Member added."))
            return redirect("orgs:members", slug=org.slug)
    rows = (
        Membership.objects.filter(organisation=org)
        .select_related("user")
        .order_by("user__username", "role")
    )
    return render(request, "orgs/members.html", {"org": org, "form": form, "memberships": rows})


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, membership_id)
    try:
        account_services.remove_member(membership=membership, actor=staff_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Role removed."))
    return redirect("orgs:members", slug=slug)


@login_required
@require_safe
def audit_trail(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation's audit entries, newest first, filterable; htmx gets only the rows."""
    org = access_organisation(request.user, slug, Cap.AUDIT_VIEW)
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.filter(organisation=org).select_related("actor")
    if form.is_valid():
        if form.cleaned_data["action"]:
            entries = entries.filter(action__startswith=form.cleaned_data["action"])
        if form.cleaned_data["actor"]:
            entries = entries.filter(actor_label__iexact=form.cleaned_data["actor"])
    page = Paginator(entries.order_by("-id"), 50).get_page(request.GET.get("page"))
    context = {"org": org, "form": form, "page": page}
    template = "orgs/_audit_rows.html" if request.htmx else "orgs/audit.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest, slug: str) -> HttpResponse:
    org = access_organisation(request.user, slug, Cap.TOKENS_MANAGE)
    form = ApiTokenForm(request.POST or None)
    raw_token = None
    if request.method == "POST" and form.is_valid():
        _token, raw_token = account_services.create_api_token(
            organisation=org,
            name=form.cleaned_data["name"],
            actor=staff_user(request),
        )
        form = ApiTokenForm()
    tokens = org.api_tokens.all()
    return render(
        request,
        "orgs/tokens.html",
        {"org": org, "form": form, "tokens": tokens, "raw_token": raw_token},
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    token = access_api_token(request.user, slug, token_id)
    account_services.revoke_api_token(token=token, actor=staff_user(request))
    messages.success(request, _("Token revoked."))
    return redirect("orgs:api_tokens", slug=slug)
