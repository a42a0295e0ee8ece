"""Background jobs of integrated WBS: matching a new fingerprint, pruning federation nonces."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cegah.core.tasks_glue import periodic, retrying_task


@retrying_task(max_attempts=5, base_seconds=10)
def match_fingerprint(fingerprint_id: int) -> int:
    """Find and store the duplicate candidates of one fingerprint; return how many were found.

    Idempotent (pairs are unique and re-ranking is deterministic), so a retry is harmless.
    """
    from cegah.wbs.integration.services import find_candidates

    return len(find_candidates(fingerprint_id))


@periodic(every=timedelta(minutes=15))
@retrying_task(max_attempts=2)
def prune_federation_nonces() -> int:
    """Delete nonces whose timestamps are too old to be accepted again; return how many."""
    from cegah.wbs.integration.models import FederationNonce

    deleted, _rows = FederationNonce.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
