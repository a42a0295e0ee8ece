import re

from django.test import Client


def test_home_is_indonesian_by_default(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "id"
    assert "Laporkan korupsi" in response.content.decode()


def test_home_switches_to_english(db: None) -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Report corruption safely" in page


def test_strict_csp_and_no_third_party_assets(db: None) -> None:
    response = Client().get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    html = response.content.decode()
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'nonce="{nonce}"' in html


def test_csrf_cookie_ends_with_the_browser_session(db: None) -> None:
    """A year-long cookie would show, on a reporter's shared or seized phone, that the reporting
    site was visited."""
    morsel = Client().get("/").cookies["csrftoken"]
    assert morsel["expires"] == "" and morsel["max-age"] == ""


def test_pages_answer_head_requests(db: None) -> None:
    assert Client().head("/").status_code == 200


def test_healthz(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_browser_language_does_not_override_indonesian(db: None) -> None:
    response = Client(headers={"Accept-Language": "en-US,en;q=0.9"}).get("/")
    assert response["Content-Language"] == "id"


def test_same_origin_post_with_null_origin_passes_csrf(personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {"username": "viewer", "password": "correct horse battery 9", "csrfmiddlewaretoken": token},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302


def test_cross_site_post_with_null_origin_is_refused(personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {"username": "viewer", "password": "correct horse battery 9", "csrfmiddlewaretoken": token},
        headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_help_and_error_texts_have_the_ids_their_fields_point_to(db: None) -> None:
    """Django's widgets say aria-describedby="<id>_helptext <id>_error"; a screen reader follows
    those ids to read the help and the error of the field."""
    from django import forms
    from django.template.loader import render_to_string

    class Sample(forms.Form):
        name = forms.CharField(help_text="Nama lengkap")

    form = Sample(data={"name": ""})
    form.is_valid()
    html = render_to_string("_form.html", {"form": form})
    described = re.search(r'aria-describedby="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    for target in described.split():
        assert f'id="{target}"' in html
    assert 'aria-invalid="true"' in html
