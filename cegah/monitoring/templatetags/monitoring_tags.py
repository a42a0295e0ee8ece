from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """``{{ answers|get:sub.id }}``: a dictionary lookup with a variable key."""
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def tepra_issue(entry: dict[str, Any]) -> str:
    """``{{ e|tepra_issue }}``: a stored TEPRA import problem, in the reader's language."""
    from cegah.monitoring.tepra_files import issue_text

    return issue_text(entry)


@register.filter
def month_name(month: int | None) -> str:
    """``{{ month|month_name }}``: "Maret" in the reader's language."""
    from cegah.monitoring.tepra import month_name as name

    return "" if month is None else name(int(month))


@register.filter
def month_year(month: int | None, year: int) -> str:
    """``{{ month|month_year:year }}``: "Maret 2026" in the reader's language."""
    from cegah.monitoring.tepra import month_year as name

    return "" if month is None else name(int(month), int(year))
