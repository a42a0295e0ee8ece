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


def test_healthz(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
