"""Insert many rows of one model with a single ``executemany``, for batch jobs.

``QuerySet.bulk_create`` compiles SQL value by value: on 200,000 tenders of about 30 columns,
procurement scoring spent most of its time there (and in building the model instances), not in
the database. ``insert_rows`` takes plain dicts keyed by field ``attname`` and prepares only the
values that need it (dates, JSON, decimals…) with the field's own ``get_db_prep_save``, as
``bulk_create`` does, so what reaches the database is the same.

No signals are sent and no primary keys are returned: for tables that a job rebuilds whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any

from django.db import connections, models, router

# Fields whose Python value reaches the driver as it is (after ``to_python``-style checks that
# the callers' values already satisfy). Others go through ``get_db_prep_save``.
_PLAIN = (
    models.BooleanField,
    models.CharField,
    models.FloatField,
    models.IntegerField,
    models.TextField,
    models.ForeignKey,
)


def insert_rows(
    model: type[models.Model],
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = 2000,
    with_id: bool = False,
) -> int:
    """Insert ``rows`` (dicts keyed by field attname; missing fields take their default).

    ``with_id``: the rows carry their primary key ``id`` too (a job that rebuilds a table but
    keeps each row's key, which links point at); the caller resets the key's sequence.
    Returns the number of rows inserted. Raises KeyError for a key that is not a field.
    """
    db = router.db_for_write(model)
    connection = connections[db]
    fields = [
        f for f in model._meta.concrete_fields if with_id or not f.primary_key or f.attname != "id"
    ]
    known = {f.attname for f in fields}
    plain = [isinstance(f, _PLAIN) and not f.choices for f in fields]
    quote = connection.ops.quote_name
    # Table and column names come from the model, quoted by the backend; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(str(f.column)) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    total = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, batch_size)):
            params = []
            for row in batch:
                unknown = set(row) - known
                if unknown:
                    raise KeyError(f"{model.__name__} has no field {sorted(unknown)[0]!r}")
                values = []
                for field, as_is in zip(fields, plain, strict=True):
                    value = row[field.attname] if field.attname in row else field.get_default()
                    values.append(value if as_is else field.get_db_prep_save(value, connection))
                params.append(values)
            cursor.executemany(sql, params)
            total += len(batch)
    return total
