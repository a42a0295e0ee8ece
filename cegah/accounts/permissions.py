"""Roles and what they may do. Every permission check in Cegah goes through this module."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organisation admin")
    HANDLER = "handler", _("Complaint handler")
    SUPERVISOR = "supervisor", _("Supervisor")
    ANALYST = "analyst", _("Analyst")
    SURVEY_COORDINATOR = "survey_coordinator", _("Survey coordinator")
    VERIFIER = "verifier", _("Verifier")
    VIEWER = "viewer", _("Viewer")


class Cap(StrEnum):
    """A capability within one organisation."""

    ORG_VIEW = "org.view"
    MEMBERS_MANAGE = "members.manage"
    AUDIT_VIEW = "audit.view"
    TOKENS_MANAGE = "tokens.manage"
    REPORTS_READ = "reports.read"
    REPORTS_HANDLE = "reports.handle"
    REPORTS_SUPERVISE = "reports.supervise"
    REPORTS_STATS = "reports.stats"
    SURVEY_COORDINATE = "survey.coordinate"
    SURVEY_VIEW = "survey.view"
    PROCUREMENT_ANALYSE = "procurement.analyse"
    MONITORING_EDIT = "monitoring.edit"
    MONITORING_VERIFY = "monitoring.verify"
    MONITORING_VIEW = "monitoring.view"


_EVERYONE = {Cap.ORG_VIEW, Cap.REPORTS_STATS, Cap.SURVEY_VIEW, Cap.MONITORING_VIEW}

ROLE_CAPS: dict[str, frozenset[Cap]] = {
    Role.ORG_ADMIN: frozenset(
        _EVERYONE | {Cap.MEMBERS_MANAGE, Cap.AUDIT_VIEW, Cap.TOKENS_MANAGE, Cap.MONITORING_EDIT}
    ),
    Role.HANDLER: frozenset(_EVERYONE | {Cap.REPORTS_READ, Cap.REPORTS_HANDLE}),
    Role.SUPERVISOR: frozenset(
        _EVERYONE | {Cap.REPORTS_READ, Cap.REPORTS_HANDLE, Cap.REPORTS_SUPERVISE, Cap.AUDIT_VIEW}
    ),
    Role.ANALYST: frozenset(_EVERYONE | {Cap.PROCUREMENT_ANALYSE}),
    Role.SURVEY_COORDINATOR: frozenset(_EVERYONE | {Cap.SURVEY_COORDINATE}),
    Role.VERIFIER: frozenset(_EVERYONE | {Cap.MONITORING_VERIFY}),
    Role.VIEWER: frozenset(_EVERYONE),
}

# Roles that can read report content, or hand out access to it, must log in with a second factor.
TWO_FACTOR_ROLES = frozenset({Role.ORG_ADMIN, Role.HANDLER, Role.SUPERVISOR})


def roles_in(user: User | AnonymousUser, organisation: Organisation) -> set[str]:
    """Return the user's roles in ``organisation`` (cached on the user object per request)."""
    if not user.is_authenticated:
        return set()
    cache: dict[int, set[str]] = user.__dict__.setdefault("_cegah_roles", {})
    if organisation.pk not in cache:
        cache[organisation.pk] = set(
            user.memberships.filter(organisation=organisation).values_list("role", flat=True)  # type: ignore[union-attr]
        )
    return cache[organisation.pk]


def capabilities(user: User | AnonymousUser, organisation: Organisation) -> frozenset[Cap]:
    """Return every capability the user holds in ``organisation``."""
    caps: set[Cap] = set()
    for role in roles_in(user, organisation):
        caps |= ROLE_CAPS.get(role, frozenset())
    return frozenset(caps)


def has_cap(user: User | AnonymousUser, organisation: Organisation, cap: Cap) -> bool:
    return cap in capabilities(user, organisation)


def requires_two_factor(user: User | AnonymousUser) -> bool:
    """True if any of the user's memberships is in a role that needs a second factor."""
    if not user.is_authenticated:
        return False
    if "_cegah_2fa" not in user.__dict__:
        user.__dict__["_cegah_2fa"] = (
            user.is_superuser
            or user.memberships.filter(  # type: ignore[union-attr]
                role__in=TWO_FACTOR_ROLES
            ).exists()
        )
    return bool(user.__dict__["_cegah_2fa"])
