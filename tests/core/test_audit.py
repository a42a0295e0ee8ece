import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cegah.core import audit
from cegah.core.models import AuditEntry


def _entries(n: int) -> list[AuditEntry]:
    return [audit.record("core.test.done", details={"n": i}) for i in range(n)]


def test_chain_verifies_when_untouched(db: None) -> None:
    _entries(5)
    result = audit.verify_chain()
    assert result.ok and result.checked == 5


def test_action_must_be_dotted(db: None) -> None:
    with pytest.raises(ValueError):
        audit.record("nodots")


def test_orm_refuses_edit_and_delete(db: None) -> None:
    entry = _entries(1)[0]
    entry.action = "core.test.changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_edited_row_in_database_is_detected(db: None) -> None:
    entries = _entries(5)
    target = entries[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET details = %s WHERE id = %s",
            ['{"n": 99}', target.pk],
        )
    result = audit.verify_chain()
    assert not result.ok
    assert result.broken_id == target.pk
    assert result.checked == 2


def test_deleted_row_in_database_is_detected(db: None) -> None:
    entries = _entries(5)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entries[1].pk])
    result = audit.verify_chain()
    assert not result.ok and result.broken_id == entries[2].pk


def test_deleted_last_row_is_detected(db: None) -> None:
    entries = _entries(3)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entries[-1].pk])
    assert not audit.verify_chain().ok


def test_verify_command_names_the_broken_entry(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = _entries(3)
    call_command("audit", "verify")
    assert "intact: 3 entries" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET action = %s WHERE id = %s",
            ["core.test.forged", entries[0].pk],
        )
    with pytest.raises(CommandError, match=f"entry {entries[0].pk}"):
        call_command("audit", "verify")
