"""Money as people read it, for every page: "$100,000", "$1,234.50", token prices in plain figures
("$3 / $15 per 1M tokens"). Amounts are Decimals; nothing here rounds for storage."""
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


def money_text(value, currency: str = "USD") -> str:
    """Whole amounts without cents ("$100,000"), others to the cent ("$1,234.50"); "—" for none."""
    amount = _decimal(value)
    if amount is None:
        return "—" if value in (None, "") else str(value)
    cents = amount.quantize(Decimal("0.01"))
    text = f"{abs(cents):,.0f}" if cents == cents.to_integral_value() else f"{abs(cents):,.2f}"
    symbol = SYMBOLS.get((currency or "USD").upper())
    text = f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
    return f"-{text}" if cents < 0 else text


def plain_price(value) -> str:
    """A per-token price with no trailing zeros: 3.000000 → "$3", 0.250000 → "$0.25"."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    text = f"{amount.normalize():f}"
    if "." in text:
        whole, _, fraction = text.partition(".")
        return f"${int(whole):,}.{fraction}"
    return f"${int(text):,}"


@register.filter
def money(value, currency: str = "USD") -> str:
    return money_text(value, currency)


@register.filter
def token_price(value) -> str:
    return plain_price(value)


@register.simple_tag
def per_1m(input_price, output_price) -> str:
    """"$3 / $15 per 1M tokens" (input / output)."""
    return f"{plain_price(input_price)} / {plain_price(output_price)} per 1M tokens"


@register.filter
def intcomma_plain(value) -> str:
    """A count with thousands separators: 400000 → "400,000"."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "—" if value in (None, "") else str(value)
