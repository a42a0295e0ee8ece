"""Form helpers of the WBS templates."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def fields_to_fix(form: Any) -> int:
    """Return how many of the form's visible fields have an error. A message about the whole form
    (a rate limit, a stale form) is not a field to fix; ``form.errors|length`` counted it as one."""
    return sum(1 for field in form.visible_fields() if field.errors)
