"""Delete the login attempts and accesses that django-axes's database handler stored.

They hold each staff login's client address and browser, which Cegah does not keep: failed
logins are now counted in the cache (settings ``AXES_HANDLER``), and the tables stay empty.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def purge(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
        apps.get_model("axes", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(purge, migrations.RunPython.noop)]
