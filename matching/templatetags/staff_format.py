"""Display filters for the staff pages: money with separators and currency, waiting times in
hours or days, percentages."""
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def money(value, currency: str = "USD") -> str:
    """"$25,000" for whole amounts, "$1,234.50" otherwise; "—" for none. Other currencies by code."""
    amount = _decimal(value)
    if amount is None:
        return "—" if value in (None, "") else str(value)
    cents = amount.quantize(Decimal("0.01"))
    text = f"{abs(cents):,.0f}" if cents == cents.to_integral_value() else f"{abs(cents):,.2f}"
    code = (currency or "USD").upper()
    text = f"{SYMBOLS[code]}{text}" if code in SYMBOLS else f"{text} {code}"
    return f"-{text}" if cents < 0 else text


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
