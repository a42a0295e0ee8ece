"""Writing and verifying the hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from cegah.core.models import GENESIS_HASH, AuditEntry, AuditHead

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation

SYSTEM_ACTOR = "system"


def record(
    action: str,
    *,
    actor: User | None = None,
    organisation: Organisation | None = None,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry and return it.

    ``action`` is a dotted name such as ``orgs.member.added``. ``details`` must never hold report
    content, phone numbers or receipts: it is plaintext. Runs inside the caller's transaction, so
    the entry exists exactly when the change it describes does.
    """
    if action.count(".") < 2:
        raise ValueError(f"audit action {action!r} must be dotted: app.object.verb")
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(singleton=1)
        entry = AuditEntry(
            created_at=timezone.now().replace(microsecond=0),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=actor.get_username()
            if actor is not None and actor.is_authenticated
            else SYSTEM_ACTOR,
            organisation=organisation,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            details=details or {},
            prev_hash=head.last_hash,
        )
        entry.entry_hash = entry.compute_hash()
        entry.save(force_insert=True)
        head.last_id = entry.pk
        head.last_hash = entry.entry_hash
        head.count += 1
        head.save(update_fields=["last_id", "last_hash", "count"])
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(batch_size: int = 2000) -> VerifyResult:
    """Recompute every hash in id order; return the first entry whose chain breaks."""
    prev_hash = GENESIS_HASH
    checked = 0
    last_id = 0
    queryset = AuditEntry.objects.order_by("id")
    while True:
        batch = list(queryset.filter(id__gt=last_id)[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != prev_hash:
                return VerifyResult(False, checked, entry.pk, "previous entry missing or altered")
            if entry.compute_hash() != entry.entry_hash:
                return VerifyResult(False, checked, entry.pk, "entry altered")
            prev_hash = entry.entry_hash
            last_id = entry.pk
            checked += 1
    head = AuditHead.objects.filter(singleton=1).first()
    if head is not None and (head.last_hash != prev_hash or head.count != checked):
        return VerifyResult(False, checked, head.last_id, "newest entries missing")
    return VerifyResult(True, checked)
