import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cegah.core.models import AuditEntry

PASSWORD = "correct horse battery 9"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_viewer_logs_in_without_second_factor(personas) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert AuditEntry.objects.filter(
        action="accounts.user.logged_in", actor=personas.viewer
    ).exists()


def test_handler_without_device_is_sent_to_setup(personas) -> None:
    client = Client()
    client.post("/accounts/login/", {"username": "handler", "password": PASSWORD})
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/")


def test_handler_enrols_totp_and_gets_backup_codes(personas) -> None:
    client = Client()
    client.post("/accounts/login/", {"username": "handler", "password": PASSWORD})
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=personas.handler, confirmed=False)
    bad = client.post(
        "/accounts/two-factor/setup/",
        {"token": "000000" if _code(device) != "000000" else "111111"},
    )
    assert bad.status_code == 200
    # django-otp throttles a device after a failure; a real user waits a second, the test resets it.
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post("/accounts/two-factor/setup/", {"token": _code(device)})
    assert done.status_code == 200 and b"<code>" in done.content
    assert client.get("/dashboard/").status_code == 200
    assert AuditEntry.objects.filter(
        action="accounts.otp.enrolled", actor=personas.handler
    ).exists()


def test_handler_with_device_must_verify(personas) -> None:
    device = TOTPDevice.objects.create(user=personas.handler, name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": "handler", "password": PASSWORD})
    assert client.get("/dashboard/")["Location"].startswith("/accounts/two-factor/verify/")
    assert client.post("/accounts/two-factor/verify/", {"token": "12"}).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(
        "/accounts/two-factor/verify/", {"token": _code(device), "next": "/dashboard/"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_verify_refuses_offsite_next(personas) -> None:
    device = TOTPDevice.objects.create(user=personas.handler, name="phone", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": "handler", "password": PASSWORD})
    response = client.post(
        "/accounts/two-factor/verify/", {"token": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_account_locks_after_repeated_failures(personas, settings) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "viewer", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "viewer", "password": PASSWORD})
    assert response.status_code in {403, 429}
    assert client.get("/dashboard/").status_code == 302


def test_logins_keep_no_client_address_or_browser(personas) -> None:
    client = Client(HTTP_USER_AGENT="PonselMurah/1.0", REMOTE_ADDR="198.51.100.7")
    client.post("/accounts/login/", {"username": "viewer", "password": "wrong"})
    client.post("/accounts/login/", {"username": "viewer", "password": PASSWORD})
    assert not AccessAttempt.objects.exists()
    assert not AccessLog.objects.exists()
    assert not AccessFailureLog.objects.exists()


def test_wrong_password_message_reads_well_in_indonesian(personas) -> None:
    response = Client().post("/accounts/login/", {"username": "viewer", "password": "wrong"})
    body = response.content.decode()
    assert "Nama pengguna atau sandi salah" in body
    assert "nama pengguna nama pengguna" not in body.lower()


def test_staff_pages_are_not_cached(personas, client_for) -> None:
    response = client_for(personas.admin).get("/dashboard/")
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_language_preference_is_saved(personas, client_for) -> None:
    client = client_for(personas.viewer)
    response = client.post("/accounts/profile/", {"language": "en"})
    assert response.status_code == 302
    personas.viewer.refresh_from_db()
    assert personas.viewer.language == "en"
