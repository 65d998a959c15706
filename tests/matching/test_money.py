"""Money as every page shows it: separators and currency, no trailing zeros on token prices."""
from decimal import Decimal

import pytest

from matching.templatetags.money import money_text, per_1m, plain_price


@pytest.mark.parametrize("value, text", [
    (Decimal("100000.00"), "$100,000"),
    (Decimal("1234.5"), "$1,234.50"),
    (Decimal("0"), "$0"),
    (Decimal("-25.00"), "-$25"),
    ("5000", "$5,000"),
    (None, "—"),
])
def test_money_has_separators_and_a_currency(value, text):
    assert money_text(value) == text


def test_other_currencies_keep_their_code_or_symbol():
    assert money_text(Decimal("2500"), "EUR") == "€2,500"
    assert money_text(Decimal("2500"), "CAD") == "2,500 CAD"


@pytest.mark.parametrize("value, text", [
    (Decimal("3.000000"), "$3"), (Decimal("0.250000"), "$0.25"), (Decimal("16.500000"), "$16.5"),
    (Decimal("1500.000000"), "$1,500"), (Decimal("0.000500"), "$0.0005"),
])
def test_token_prices_are_plain_figures(value, text):
    assert plain_price(value) == text


def test_per_1m_reads_in_and_out():
    assert per_1m(Decimal("3.000000"), Decimal("15.000000")) == "$3 / $15 per 1M tokens"
