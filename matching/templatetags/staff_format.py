"""Display filters for the staff pages: money with separators and currency, waiting times in
hours or days, percentages."""
from django import template

from .money import _decimal, money_text

register = template.Library()


@register.filter
def money(value, currency: str = "USD") -> str:
    """The one money format of every page (matching.templatetags.money)."""
    return money_text(value, currency)


@register.filter
def hours(value) -> str:
    """A span given in hours: "45 min", "5.5 h", "3.2 days"; "—" for none."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    if amount < 1:
        return f"{amount * 60:,.0f} min"
    if amount < 48:
        return f"{amount:,.1f} h"
    return f"{amount / 24:,.1f} days"


@register.filter
def percent(value) -> str:
    """A percentage already in percent (Decimal("66.7") → "66.7%"); "—" for none."""
    amount = _decimal(value)
    return "—" if amount is None else f"{amount}%"
