"""Email notifications. They say that something needs attention and where, never what: no
values, notes, titles or names of people, because mail leaves our control."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from cegah.accounts.models import Membership, User
from cegah.accounts.permissions import ROLE_CAPS, Cap
from cegah.orgs.models import Organisation


def recipients(organisations: Iterable[Organisation], cap: Cap) -> list[User]:
    """Return the active users with an email address who hold ``cap`` in any of ``organisations``."""
    roles = [role for role, caps in ROLE_CAPS.items() if cap in caps]
    memberships = Membership.objects.filter(
        organisation__in=list(organisations), role__in=roles, user__is_active=True
    ).select_related("user")
    users: dict[int, User] = {}
    for m in memberships:
        if m.user.email:
            users[m.user_id] = m.user
    return list(users.values())


# Each kind of notice: (subject, body). Bodies take only the organisation name and a link.
def _texts(kind: str) -> tuple[str, str]:
    texts = {
        "assessment_submitted": (
            _("Monitoring: a self-assessment awaits verification"),
            _("%(org)s submitted its self-assessment for verification. Open Cegah: %(url)s"),
        ),
        "assessment_returned": (
            _("Monitoring: your self-assessment was returned"),
            _(
                "The verifier returned the self-assessment of %(org)s for a response. Open Cegah: %(url)s"
            ),
        ),
        "assessment_verified": (
            _("Monitoring: verification finished"),
            _("The verification of %(org)s is finished. Open Cegah: %(url)s"),
        ),
        "recommendation_due": (
            _("Monitoring: recommendations due soon"),
            _("%(org)s has recommendations due within a week. Open Cegah: %(url)s"),
        ),
        "recommendation_overdue": (
            _("Monitoring: overdue recommendations escalated"),
            _("%(org)s has recommendations past their due date. Open Cegah: %(url)s"),
        ),
        "tepra_lagging": (
            _("TEPRA: units lagging behind their targets"),
            _(
                "Some units of %(org)s are behind their budget realisation targets. Open Cegah: %(url)s"
            ),
        ),
    }
    return texts[kind]


def notify(users: Iterable[User], kind: str, *, org: Organisation, path: str) -> int:
    """Send notice ``kind`` to each user in their own language; return how many were sent."""
    sent = 0
    url = settings.SITE_URL.rstrip("/") + path
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject, body = _texts(kind)
            sent += send_mail(
                subject,
                body % {"org": org.name, "url": url},
                None,
                [user.email],
                fail_silently=False,
            )
    return sent
