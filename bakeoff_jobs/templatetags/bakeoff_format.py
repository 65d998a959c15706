"""Display filters for bake-off figures: dollars (small per-task costs keep their significant
digits), pass rates as percentages, months of runway."""
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def usd(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if amount == 0:
        return "$0"
    if abs(amount) >= 100:
        return f"${amount:,.0f}"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    # Per-task costs are fractions of a cent: keep three significant digits.
    digits = max(2, -amount.adjusted() + 2)
    return f"${amount:.{digits}f}"


@register.filter
def pct(value, places: int = 1) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(places)}f}%"


@register.filter
def months(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.1f} months"


@register.filter
def ms(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f} ms"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
