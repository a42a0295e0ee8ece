from cegah.accounts.models import Membership, User
from cegah.accounts.permissions import Role
from cegah.core.models import AuditEntry


def test_admin_adds_new_member_and_it_is_audited(personas, client_for) -> None:
    client = client_for(personas.admin)
    response = client.post(
        f"/orgs/{personas.org.slug}/members/",
        {
            "username": "baru",
            "role": Role.HANDLER,
            "full_name": "Orang Baru",
            "password": "a-long-pass-phrase-77",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="baru")
    assert Membership.objects.filter(
        user=user, organisation=personas.org, role=Role.HANDLER
    ).exists()
    actions = set(
        AuditEntry.objects.filter(organisation=personas.org).values_list("action", flat=True)
    )
    assert {"accounts.user.created", "orgs.member.added"} <= actions


def test_new_member_needs_a_password(personas, client_for) -> None:
    response = client_for(personas.admin).post(
        f"/orgs/{personas.org.slug}/members/", {"username": "tanpa", "role": Role.VIEWER}
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="tanpa").exists()


def test_last_admin_cannot_be_removed(personas, client_for) -> None:
    membership = Membership.objects.get(user=personas.admin, role=Role.ORG_ADMIN)
    client_for(personas.admin).post(f"/orgs/{personas.org.slug}/members/{membership.pk}/remove/")
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_admin_removes_a_role(personas, client_for) -> None:
    membership = Membership.objects.get(user=personas.viewer)
    response = client_for(personas.admin).post(
        f"/orgs/{personas.org.slug}/members/{membership.pk}/remove/"
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEntry.objects.filter(
        action="orgs.member.removed", object_id=str(membership.pk)
    ).exists()


def test_viewer_cannot_manage_members(personas, client_for) -> None:
    assert client_for(personas.viewer).get(f"/orgs/{personas.org.slug}/members/").status_code == 404


def test_audit_trail_shows_own_entries_only(personas, client_for) -> None:
    from cegah.core import audit

    audit.record(
        "orgs.test.mine",
        organisation=personas.org,
        details={"to": "penangan", "from": None, "agree": ["amount", "region"]},
    )
    audit.record("orgs.test.theirs", organisation=personas.other_org)
    response = client_for(personas.admin).get(f"/orgs/{personas.org.slug}/audit/")
    assert response.status_code == 200
    assert b"orgs.test.mine" in response.content
    assert "to: penangan · from: — · agree: amount, region" in response.content.decode()
    assert b"orgs.test.theirs" not in response.content


def test_audit_trail_htmx_returns_rows_only(personas, client_for) -> None:
    response = client_for(personas.admin).get(
        f"/orgs/{personas.org.slug}/audit/?action=orgs", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b"<table>" in response.content
