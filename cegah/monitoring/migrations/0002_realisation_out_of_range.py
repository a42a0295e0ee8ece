"""Remove TEPRA rows holding a number their column cannot hold, and say so on their import.

Before imports checked the bounds, a typo such as a pagu of 100000000000000000000 was accepted.
PostgreSQL refused to store it (numeric(18, 2)); SQLite stored it, and reading it back raised
decimal.InvalidOperation, so the year's TEPRA page, its exports and the API answered 500 for good.
Such a row cannot be read or corrected, only imported again: it is deleted, and the import that
brought it lists it (OPD, activity, column and the value as stored) so that its month can be.
"""

from decimal import Decimal

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Q, TextField
from django.db.models.functions import Cast

# The largest value each column holds (max_digits 18 or 5, two decimals); written so that the
# lookup itself fits the column.
LIMITS = {
    "pagu": Decimal("9999999999999999.99"),
    "financial_target": Decimal("9999999999999999.99"),
    "financial_actual": Decimal("9999999999999999.99"),
    "physical_target": Decimal("999.99"),
    "physical_actual": Decimal("999.99"),
}


def remove_out_of_range(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Realisation = apps.get_model("monitoring", "Realisation")
    TepraImport = apps.get_model("monitoring", "TepraImport")
    out_of_range = Q()
    for name, limit in LIMITS.items():
        out_of_range |= Q(**{f"{name}__gte": limit}) | Q(**{f"{name}__lte": -limit})
    # Read as text: reading such a value as a decimal is what fails.
    texts = {f"{name}_text": Cast(name, output_field=TextField()) for name in LIMITS}
    rows = list(
        Realisation.objects.filter(out_of_range)
        .annotate(**texts)
        .values("pk", "source_id", "opd_name", "activity_name", *texts)
    )
    notes: dict[int, list[dict[str, object]]] = {}
    doomed = []
    for row in rows:
        for name in LIMITS:
            text = str(row[f"{name}_text"] or "")
            try:
                fits = abs(Decimal(text)) < LIMITS[name]
            except ArithmeticError:  # not a decimal at all
                fits = False
            if fits:
                continue
            if not doomed or doomed[-1] != row["pk"]:
                doomed.append(row["pk"])
            if row["source_id"] is not None:
                notes.setdefault(row["source_id"], []).append(
                    {
                        "row": None,
                        "column": name,
                        "letter": "",
                        "code": "removed_out_of_range",
                        "params": {
                            "value": text[:40],
                            "opd": row["opd_name"],
                            "activity": row["activity_name"],
                        },
                    }
                )
    Realisation.objects.filter(pk__in=doomed).delete()
    for record in TepraImport.objects.filter(pk__in=list(notes)):
        record.errors = [*record.errors, *notes[record.pk]]
        record.save(update_fields=["errors"])


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(remove_out_of_range, migrations.RunPython.noop)]
