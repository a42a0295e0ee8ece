from django.core.management import call_command
from django.test import Client

from cegah.accounts.models import Membership, User
from cegah.accounts.permissions import Role
from cegah.core.audit import verify_chain
from cegah.core.demo import current_demo_code, demo_password, load_demo
from cegah.orgs.models import Organisation


def test_demo_is_idempotent_and_covers_every_role(db: None) -> None:
    load_demo()
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    load_demo()
    assert (
        Organisation.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    ) == counts
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    lampung = Organisation.objects.get(slug="pemprov-lampung")
    assert Organisation.objects.filter(parent=lampung, kind=Organisation.Kind.REGENCY).count() == 15
    assert Organisation.objects.filter(unit_type="puskesmas").exists()
    assert Organisation.objects.filter(kind=Organisation.Kind.BUMD).exists()
    assert Organisation.objects.filter(kind=Organisation.Kind.KL).exists()
    assert verify_chain().ok


def test_demo_handler_logs_in_with_printed_code(db: None) -> None:
    load_demo()
    client = Client()
    client.post("/accounts/login/", {"username": "penangan", "password": demo_password()})
    response = client.post("/accounts/two-factor/verify/", {"token": current_demo_code("penangan")})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_demo_command_prints_logins(db: None, capsys) -> None:
    call_command("demo")
    out = capsys.readouterr().out
    assert "penangan" in out and demo_password() in out
