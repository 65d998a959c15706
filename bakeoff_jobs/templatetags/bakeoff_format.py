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


@register.filter
def runway(entry, variant) -> str:
    """Credit runway of a report entry (a model or the router) for one variant, counting expiry:
    "covers the whole validity (24 months)" when the spend never exhausts the credits before they
    expire, else the months they pay for."""
    if not entry:
        return "—"
    if entry.get("credits_pay") is False:
        return "not paid by credits (GPUs outside AWS)"
    validity = entry.get("credit_validity_months")
    if validity and (entry.get("runway_covers_validity") or {}).get(variant):
        return f"covers the whole validity ({validity} months)"
    counted = (entry.get("runway_months_counting_expiry") or {}).get(variant)
    if counted is None:  # a report stored before expiry was counted
        counted = (entry.get("runway_months") or {}).get(variant)
    return months(counted)


@register.filter
def per_1000(cost_per_task) -> str:
    """A per-task cost as dollars per 1,000 tasks: "0.000008" → "$0.0080", "0.000017" → "$0.017",
    "0.008" → "$8.00", "1.2345" → "$1,234.50". Below a dollar, two significant digits (never "$0.00")."""
    if cost_per_task is None or cost_per_task == "":
        return "—"
    try:
        amount = Decimal(str(cost_per_task)) * 1000
    except InvalidOperation:
        return str(cost_per_task)
    if amount == 0:
        return "$0.00"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    digits = max(2, -amount.adjusted() + 1)  # two significant digits below a dollar
    return f"${amount:.{digits}f}"


@register.filter
def money(value) -> str:
    """Dollars with separators and cents: "75000" → "$75,000.00"; "—" when unknown."""
    if value is None or value == "":
        return "—"
    try:
        return f"${Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


@register.filter
def category_name(slug) -> str:
    """A category as people write it: "hard-analysis" → "Hard analysis", "pii_redaction" →
    "Pii redaction", "PII-redaction" → "PII redaction"; the empty category is "Uncategorised"."""
    words = " ".join(str(slug or "").replace("-", " ").replace("_", " ").split())
    if not words:
        return "Uncategorised"
    return words[0].upper() + words[1:]
