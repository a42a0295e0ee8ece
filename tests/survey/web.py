"""Shared set-up of the survey app tests: a coordinator, an edition, a locus with units."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client

from cegah.accounts.models import User
from cegah.accounts.permissions import Role
from cegah.channels.conf import ChannelsConfig, override_config
from cegah.channels.providers import fake_email
from cegah.channels.providers.fake_whatsapp import FakeGraphAPI, fake_graph
from cegah.orgs.models import Organisation
from cegah.survey import sealing, services
from cegah.survey.models import Edition, Invitation, Locus
from tests.conftest import CANARY, Personas, make_user

FRAME_CSV = (
    "name,unit,group,phone,email\n"
    "Budi Santoso,,internal,0812-1111-0001,\n"
    "Sari Dewi,dinas-contoh,internal,+62 812 1111 0002,sari@contoh.id\n"
    "Budi Lagi,,internal,081211110001,\n"  # duplicate phone of row 2: merged
    "Andi,dinas-contoh,external,,andi@contoh.id\n"
)
# The same list with two rows that have problems: the whole file is refused.
FRAME_CSV_WITH_PROBLEMS = (
    FRAME_CSV
    + "Nomor Salah,,internal,12345,\n"  # row 6: bad phone, no email
    + "Tanpa Unit,unit-tidak-ada,internal,081211110009,\n"  # row 7: unknown unit
)


@dataclass
class World:
    coordinator: User
    edition: Edition
    institution: Organisation
    unit: Organisation
    locus: Locus


def make_world(personas: Personas, name: str = "Pemkab Contoh") -> World:
    coordinator = make_user("koordinator", personas.org, Role.SURVEY_COORDINATOR)
    institution = Organisation.objects.create(
        slug="pemkab-contoh", name=f"{name} {CANARY}", kind=Organisation.Kind.REGENCY
    )
    unit = Organisation.objects.create(
        slug="dinas-contoh", name="Dinas Contoh", kind=Organisation.Kind.UNIT, parent=institution
    )
    edition = services.create_edition(personas.org, 2026, f"SPI {CANARY}", coordinator)
    Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.FIELDWORK)
    edition.refresh_from_db()
    locus = services.add_locus(edition, institution, "kabupaten", "kecil", coordinator)
    return World(coordinator, edition, institution, unit, locus)


def invited(world: World, n: int = 3, group: str = "internal") -> list[tuple[Invitation, str]]:
    """Frame ``n`` people of ``group``, sample them all (census) and return (invitation, token)."""
    rows = ["name,unit,group,phone,email"]
    rows += [f"Orang {i},dinas-contoh,{group},08121234{i:04d}," for i in range(n)]
    services.import_frame(world.locus, "f.csv", "\n".join(rows).encode(), world.coordinator)
    services.draw_sample(world.locus, world.coordinator, seed=1)
    out = []
    for inv in Invitation.objects.filter(locus=world.locus, group=group).order_by("pk"):
        out.append((inv, sealing.token_for(inv.nonce)))
    return out


@pytest.fixture
def world(personas: Personas) -> World:
    return make_world(personas)


@pytest.fixture
def graph() -> Iterator[FakeGraphAPI]:
    with override_config(
        ChannelsConfig(),
        whatsapp_rate_per_second=0,
        twilio_rate_per_second=0,
        email_rate_per_second=0,
    ):
        fake = fake_graph()
        fake.reset()
        fake_email.reset()
        yield fake
        fake.reset()


FORM_FIELDS = {"csrfmiddlewaretoken", "action", "page"}


def fields_on(html: str) -> list[str]:
    """Return the question names that a questionnaire page asks (its inputs, in order)."""
    import re

    start = html.find('<form method="post" novalidate')
    html = html[start : html.find("</form>", start)] if start >= 0 else ""
    names = re.findall(r'<(?:input|textarea|select)\b[^>]*\bname="([^"]+)"', html)
    return [n for n in dict.fromkeys(names) if n not in FORM_FIELDS]


def page_number(html: str) -> str:
    """Return the page number that a questionnaire page's form carries."""
    import re

    found = re.search(r'name="page" value="(\d+)"', html)
    assert found, "the page form carries no page number"
    return found.group(1)


def answer_on_the_web(client: Client, token: str, choose: Callable[[str], str]) -> list[int]:
    """Start and answer a questionnaire page by page as a browser without JavaScript would:
    every question shown gets ``choose(name)``. Return the status code of every POST."""
    assert client.post(f"/spi/i/{token}/mulai/").status_code == 302
    statuses = []
    for _step in range(40):
        page = client.get(f"/spi/i/{token}/isi/")
        html = page.content.decode()
        if "Terima kasih" in html or "Thank you" in html:
            return statuses
        last = 'name="action" value="submit"' in html
        data = {name: choose(name) for name in fields_on(html)}
        data |= {"action": "submit" if last else "next", "page": page_number(html)}
        response = client.post(f"/spi/i/{token}/isi/", data)
        statuses.append(response.status_code)
        assert response.status_code in (200, 302), response.content[:400]
        if last and response.status_code == 200 and b'name="action"' not in response.content:
            return statuses
    raise AssertionError("never reached the end of the questionnaire")
