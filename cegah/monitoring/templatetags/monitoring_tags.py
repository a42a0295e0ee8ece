from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """``{{ answers|get:sub.id }}``: a dictionary lookup with a variable key."""
    if not mapping:
        return None
    return mapping.get(key)
