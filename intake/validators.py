"""Field validators shared by the intake model, its form and its API, so every edge says the same."""
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from .countries import is_country_code

_AWS_ACCOUNT_ID = re.compile("[0-9]{12}")  # ASCII digits only (\d would also take Arabic-Indic or fullwidth digits)


def validate_country_code(value: str) -> None:
    """A code from intake.countries (the list ACE accepts), with a hint for a three-letter code."""
    if is_country_code(value):
        return
    shown = value if isinstance(value, str) and len(value) <= 10 else None
    if shown is not None and len(shown) == 3 and shown.isalpha():
        message = (f'"{shown}" is a three-letter code: use the two-letter ISO 3166-1 code, '
                   "for example US for the United States, DE for Germany or IN for India.")
    elif shown:
        message = (f'Unknown country code "{shown}": use a two-letter ISO 3166-1 code from the list, '
                   "for example US, DE or IN.")
    else:
        message = "Unknown country code: use a two-letter ISO 3166-1 code from the list, for example US, DE or IN."
    raise ValidationError(message, code="unknown_country")


def validate_aws_account_id(value: str) -> None:
    if value and not _AWS_ACCOUNT_ID.fullmatch(value):
        raise ValidationError(
            "An AWS account id is exactly 12 digits, for example 123456789012.", code="aws_account_id"
        )


def validate_public_url(value: str) -> None:
    """A website is a plain public address: no user name or password before the host
    ("https://aws.amazon.com@evil.example" reads as AWS but opens evil.example) and no
    control or format characters (core.inputs.single_line_text would change it)."""
    if not value:
        return
    from urllib.parse import urlsplit

    from core.inputs import single_line_text

    if "@" in (urlsplit(value).netloc or "") or single_line_text(value) != value.strip():
        raise ValidationError(
            "Give the website's plain address, for example https://example.com (no user name, "
            "password or hidden characters).", code="url_credentials")


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError("The founding date cannot be in the future.", code="future_date")
