"""Who sees which procurement data, and the access helpers (404 for missing and foreign alike).

Rule: an analyst (``Cap.PROCUREMENT_ANALYSE``) of an organisation sees the buyers mapped to that
organisation and to every organisation below it in the tree (a regional government sees its OPD
and their satker). Analysts of KPK see every buyer, unmapped ones included, and are the only ones
who may import data and map buyers: an import replaces processes by ocid in the one shared store,
so it must not be open to every regional analyst.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from cegah.accounts.permissions import Cap
from cegah.orgs.access import access_organisation
from cegah.orgs.models import Organisation
from cegah.procurement.models import Buyer, BuyerRisk, ImportJob, TenderExport, TenderRisk

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import User


def sees_everything(organisation: Organisation) -> bool:
    """Return whether analysts of ``organisation`` see all buyers (KPK)."""
    return organisation.kind == Organisation.Kind.KPK


def subtree_ids(organisation: Organisation) -> list[int]:
    """Return the ids of ``organisation`` and all its descendants (one query per level)."""
    ids = [organisation.pk]
    level = [organisation.pk]
    for _depth in range(20):
        level = list(
            Organisation.objects.filter(parent_id__in=level, is_active=True).values_list(
                "pk", flat=True
            )
        )
        if not level:
            break
        ids.extend(level)
    return ids


@dataclass(frozen=True)
class Scope:
    """What one analyst organisation may see. ``organisation_ids`` None means everything."""

    organisation: Organisation
    organisation_ids: list[int] | None

    @property
    def everything(self) -> bool:
        return self.organisation_ids is None

    def tenders(self) -> QuerySet[TenderRisk]:
        qs = TenderRisk.objects.all()
        if self.organisation_ids is not None:
            qs = qs.filter(organisation_id__in=self.organisation_ids)
        return qs

    def buyer_risks(self) -> QuerySet[BuyerRisk]:
        qs = BuyerRisk.objects.all()
        if self.organisation_ids is not None:
            qs = qs.filter(organisation_id__in=self.organisation_ids)
        return qs

    def buyers(self) -> QuerySet[Buyer]:
        qs = Buyer.objects.all()
        if self.organisation_ids is not None:
            qs = qs.filter(organisation_id__in=self.organisation_ids)
        return qs

    def organisations(self) -> QuerySet[Organisation]:
        qs = Organisation.objects.filter(is_active=True)
        if self.organisation_ids is not None:
            qs = qs.filter(pk__in=self.organisation_ids)
        return qs

    def covers(self, organisation_id: int | None) -> bool:
        if self.organisation_ids is None:
            return True
        return organisation_id is not None and organisation_id in self.organisation_ids


def scope_of(organisation: Organisation) -> Scope:
    """Return the scope of an organisation's analysts (and of its API tokens)."""
    if sees_everything(organisation):
        return Scope(organisation, None)
    return Scope(organisation, subtree_ids(organisation))


def access_scope(user: User | AnonymousUser, slug: str) -> Scope:
    """Return the procurement scope of organisation ``slug`` if the user analyses there."""
    return scope_of(access_organisation(user, slug, Cap.PROCUREMENT_ANALYSE))


def access_importer(user: User | AnonymousUser, slug: str) -> Scope:
    """Return the scope of ``slug`` if its analysts may import and map buyers, else 404."""
    scope = access_scope(user, slug)
    if not scope.everything:
        raise Http404
    return scope


def access_tender(
    user: User | AnonymousUser, slug: str, tender_id: int
) -> tuple[Scope, TenderRisk]:
    """Return the scope and tender ``tender_id`` if the tender's buyer is within the scope."""
    scope = access_scope(user, slug)
    tender = scope.tenders().select_related("buyer", "buyer__organisation", "buyer__region")
    found = tender.filter(pk=tender_id).first()
    if found is None:
        raise Http404
    return scope, found


def access_buyer(user: User | AnonymousUser, slug: str, buyer_pk: int) -> tuple[Scope, Buyer]:
    """Return the scope and buyer ``buyer_pk`` if it is within the scope."""
    scope = access_scope(user, slug)
    buyer = scope.buyers().select_related("organisation", "region").filter(pk=buyer_pk).first()
    if buyer is None:
        raise Http404
    return scope, buyer


def access_import_job(
    user: User | AnonymousUser, slug: str, job_id: int
) -> tuple[Scope, ImportJob]:
    """Return an import job of organisation ``slug`` if the user may import there."""
    scope = access_importer(user, slug)
    job = (
        ImportJob.objects.select_related("created_by")
        .filter(Q(pk=job_id) & Q(organisation=scope.organisation))
        .first()
    )
    if job is None:
        raise Http404
    return scope, job


def access_tender_export(
    user: User | AnonymousUser, slug: str, export_id: int
) -> tuple[Scope, TenderExport]:
    """Return an export of organisation ``slug`` if the user asked for it and still analyses
    there: a prepared file is its requester's only, as a download would be."""
    scope = access_scope(user, slug)
    job = TenderExport.objects.filter(
        pk=export_id, organisation=scope.organisation, created_by_id=user.pk
    ).first()
    if job is None:
        raise Http404
    return scope, job
