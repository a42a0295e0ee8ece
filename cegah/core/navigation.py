"""Navigation entries contributed by each module.

An app lists its entries in ``NAV`` here or appends to ``NAV_ITEMS`` from its AppConfig.ready(), so
the staff shell grows as modules are added and never shows a link to a module that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    # Only shown to users holding this capability in at least one organisation ("" = everyone).
    cap: str = ""
    # A further test on the request, for entries whose audience is narrower than a capability.
    visible: Callable[[HttpRequest], bool] | None = None


NAV_ITEMS: list[NavItem] = [NavItem(_("Dashboard"), "core:dashboard")]


@dataclass(frozen=True)
class OrgLink:
    """A link on an organisation's card and page; ``url_name`` takes the organisation's slug."""

    label: str | Promise
    url_name: str
    cap: str


ORG_LINKS: list[OrgLink] = [
    OrgLink(_("Members"), "orgs:members", "members.manage"),
    OrgLink(_("Audit trail"), "orgs:audit", "audit.view"),
    OrgLink(_("API tokens"), "orgs:api_tokens", "tokens.manage"),
]


def org_links(slug: str, caps: set[str]) -> list[dict[str, object]]:
    """Return the links of every module that the holder of ``caps`` may open for organisation ``slug``."""
    return [
        {"label": link.label, "url": reverse(link.url_name, args=[slug])}
        for link in ORG_LINKS
        if link.cap in caps
    ]


def nav_for(request: HttpRequest) -> list[dict[str, object]]:
    from cegah.accounts.permissions import ROLE_CAPS

    user = request.user
    roles = set(user.memberships.values_list("role", flat=True))  # type: ignore[union-attr]
    caps: set[str] = set()
    for role in roles:
        caps |= {str(c) for c in ROLE_CAPS.get(role, frozenset())}
    items: list[dict[str, object]] = []
    for item in NAV_ITEMS:
        if item.cap and item.cap not in caps:
            continue
        if item.visible is not None and not item.visible(request):
            continue
        url = reverse(item.url_name)
        items.append({"label": item.label, "url": url, "active": request.path.startswith(url)})
    return items
