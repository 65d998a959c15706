"""What a filing verb raises: the message is written for the partner (the API answers it as 409,
an ACE draft not ready for Partner Central as 400 with a message per field)."""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import DomainError


class FilingError(DomainError):
    """A filing verb refused; the message is written for the partner."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class AceValidationError(FilingError):
    status_code = 400
    code = "invalid"

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("The opportunity is not ready for Partner Central: " + "; ".join(map(str, problems)))

    def field_errors(self) -> dict[str, list[str]]:
        fields: dict[str, list[str]] = {}
        for problem in self.problems:
            fields.setdefault(problem.field, []).append(problem.message)
        return fields
