"""Unlocking a member's keys at login and keeping them usable for the session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

from cegah.core.crypto import DecryptionError, unwrap
from cegah.wbs import keys
from cegah.wbs.models import KeyShare

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation


def on_login(request: HttpRequest, response: HttpResponse, user: User, password: str) -> None:
    """Open (or create) the member's key pair and hand out pending shares they can give."""
    private = keys.unlock_user_key(user, password)
    keys.remember_in_session(request, response, private)
    share_out(user, private)


def on_password_changed(
    request: HttpRequest, response: HttpResponse, user: User, password: str
) -> None:
    private = keys.session_private_key(request)
    if private is None:
        # No key in this session: the next login creates or re-opens it with the new password.
        return
    keys.reseal_user_key(user, private, password)
    keys.remember_in_session(request, response, private)


def share_out(user: User, private: bytes) -> int:
    """Use the member's shares to give colleagues who lack one theirs; revoke stale shares."""
    granted = 0
    for share in KeyShare.objects.filter(user=user).select_related("org_key__organisation"):
        org = share.org_key.organisation
        try:
            org_private = unwrap(
                private, bytes(share.wrapped), keys.org_share_info(share.org_key, user.pk)
            )
        except DecryptionError:
            continue
        granted += keys.grant_pending_shares(org, org_private, user)
        keys.revoke_stale_shares(org, user)
    return granted


def on_role_removed(organisation: Organisation, user: User, actor: User | None) -> None:
    """A member lost a role: if they can no longer handle reports, unassign their open reports
    (back to the queue) and drop their key share if they can no longer read them."""
    from cegah.accounts.permissions import Cap, has_cap
    from cegah.wbs.services import reassign_departed

    user.__dict__.pop("_cegah_roles", None)  # the role cache of this user object is stale now
    if not has_cap(user, organisation, Cap.REPORTS_HANDLE):
        reassign_departed(organisation, user, actor)
    keys.revoke_stale_shares(organisation, actor)
