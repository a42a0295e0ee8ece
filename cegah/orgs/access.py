"""Access helpers: the only way views and API endpoints fetch tenant objects.

Each returns the object or raises Http404. "Missing" and "not yours" look the same, so an outsider
cannot probe which organisations or objects exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from cegah.accounts.permissions import Cap, has_cap
from cegah.orgs.models import Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import ApiToken, Membership, User


def access_organisation(
    user: User | AnonymousUser, slug: str, cap: Cap = Cap.ORG_VIEW
) -> Organisation:
    """Return the active organisation ``slug`` if the user holds ``cap`` in it, else raise Http404."""
    org = (
        Organisation.objects.select_related("region", "parent")
        .filter(slug=slug, is_active=True)
        .first()
    )
    if org is None or not has_cap(user, org, cap):
        raise Http404
    return org


def access_membership(user: User | AnonymousUser, slug: str, membership_id: int) -> Membership:
    """Return a membership of organisation ``slug`` that the user may manage, else raise Http404."""
    from cegah.accounts.models import Membership

    org = access_organisation(user, slug, Cap.MEMBERS_MANAGE)
    membership = (
        Membership.objects.select_related("user", "organisation")
        .filter(pk=membership_id, organisation=org)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def access_api_token(user: User | AnonymousUser, slug: str, token_id: int) -> ApiToken:
    """Return an API token of organisation ``slug`` that the user may manage, else raise Http404."""
    from cegah.accounts.models import ApiToken

    org = access_organisation(user, slug, Cap.TOKENS_MANAGE)
    token = ApiToken.objects.filter(pk=token_id, organisation=org).first()
    if token is None:
        raise Http404
    return token


def access_token_organisation(token: ApiToken, slug: str) -> Organisation:
    """Return organisation ``slug`` if it is the token's own, else raise Http404."""
    if token.organisation.slug != slug or not token.organisation.is_active:
        raise Http404
    return token.organisation
