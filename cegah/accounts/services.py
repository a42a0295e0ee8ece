"""Services for users, memberships and API tokens. Each change writes an audit entry."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.accounts.models import ApiToken, Membership, User
from cegah.accounts.permissions import Role
from cegah.core import audit
from cegah.orgs.models import Organisation

TOKEN_PREFIX = "cgh_"  # noqa: S105 - a public prefix, not a secret


def add_member(
    *, organisation: Organisation, user: User, role: str, actor: User | None
) -> Membership:
    """Give ``user`` the ``role`` in ``organisation``; return the (possibly existing) membership."""
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, role=role
        )
        if created:
            audit.record(
                "orgs.member.added",
                actor=actor,
                organisation=organisation,
                obj=membership,
                details={"user": user.username, "role": role},
            )
    return membership


def remove_member(*, membership: Membership, actor: User | None) -> None:
    """Remove one role of a member, and audit it.

    Refuses to remove the organisation's last admin, which would leave nobody able to manage it.
    """
    with transaction.atomic():
        if (
            membership.role == Role.ORG_ADMIN
            and Membership.objects.select_for_update()
            .filter(organisation=membership.organisation, role=Role.ORG_ADMIN)
            .count()
            <= 1
        ):
            raise ValidationError(_("An organisation must keep at least one admin."))
        audit.record(
            "orgs.member.removed",
            actor=actor,
            organisation=membership.organisation,
            obj=membership,
            details={"user": membership.user.username, "role": membership.role},
        )
        membership.delete()
        from cegah.accounts.hooks import ROLE_REMOVED_HOOKS

        for hook in ROLE_REMOVED_HOOKS:
            hook(membership.organisation, membership.user, actor)


def create_user(
    *,
    username: str,
    password: str | None,
    actor: User | None,
    organisation: Organisation | None = None,
    full_name: str = "",
    email: str = "",
) -> User:
    """Create a staff user (unusable password when ``password`` is None) and audit it."""
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("That username is taken."))
        first, _sep, last = full_name.partition(" ")
        user = User(username=username, email=email, first_name=first, last_name=last)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit.record(
            "accounts.user.created",
            actor=actor,
            organisation=organisation,
            obj=user,
            details={"username": username},
        )
    return user


def create_api_token(
    *, organisation: Organisation, name: str, actor: User | None
) -> tuple[ApiToken, str]:
    """Create a token for ``organisation``; return it and the raw token, which is shown once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            organisation=organisation,
            name=name,
            prefix=raw[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8],
            token_hash=ApiToken.hash(raw),
            created_by=actor,
        )
        audit.record(
            "accounts.apitoken.created",
            actor=actor,
            organisation=organisation,
            obj=token,
            details={"name": name, "prefix": token.prefix},
        )
    return token, raw


def revoke_api_token(*, token: ApiToken, actor: User | None) -> None:
    """Revoke a token (idempotent) and audit it."""
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "accounts.apitoken.revoked",
            actor=actor,
            organisation=token.organisation,
            obj=token,
            details={"prefix": token.prefix},
        )


def authenticate_api_token(raw: str) -> ApiToken | None:
    """Return the active token matching ``raw``, or None. Constant-time on the hash comparison."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) < len(TOKEN_PREFIX) + 8:
        return None
    prefix = raw[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8]
    token = (
        ApiToken.objects.select_related("organisation")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not secrets.compare_digest(token.token_hash, ApiToken.hash(raw)):
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy client should not turn every read into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def record_login(user: User) -> None:
    audit.record("accounts.user.logged_in", actor=user)


def record_password_change(user: User) -> None:
    audit.record("accounts.user.password_changed", actor=user, obj=user)


def record_two_factor(user: User, action: str) -> None:
    audit.record(f"accounts.otp.{action}", actor=user)
