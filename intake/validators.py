"""Field validators shared by the intake model, its form and its API, so every edge says the same."""
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from .countries import COUNTRIES

_AWS_ACCOUNT_ID = re.compile("[0-9]{12}")  # ASCII digits only (\d would also take Arabic-Indic or fullwidth digits)


def validate_country_code(value: str) -> None:
    if value not in COUNTRIES:
        raise ValidationError(
            'Unknown country code "%(value)s": use the two-letter ISO code, for example US, DE or IN.',
            code="unknown_country",
            params={"value": value},
        )


def validate_aws_account_id(value: str) -> None:
    if value and not _AWS_ACCOUNT_ID.fullmatch(value):
        raise ValidationError(
            "An AWS account id is exactly 12 digits, for example 123456789012.", code="aws_account_id"
        )


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError("The founding date cannot be in the future.", code="future_date")
