"""What every API view shares: the one exception handler, the API exceptions with their status codes,
the id pattern of URLs, and the error responses added to the schema. It knows no app: a business
refusal reaches it as a core.errors.DomainError (the intake throttle lives in intake.throttles, the
permission classes in matching.permissions)."""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError

log = logging.getLogger(__name__)

# Record ids in URLs: digits that fit a bigint, so an absurd id is a plain 404, never a database error.
ID_PATTERN = r"[0-9]{1,18}"

# --- errors ---------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the record."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."
    default_code = "too_large"


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field" or "field.0.sub": [messages]}."""
    if isinstance(data, dict):
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and any(isinstance(item, (dict, list)) for item in data):
        out = {}
        for i, item in enumerate(data):
            out.update(_flatten(item, f"{prefix}.{i}" if prefix else str(i)))
        return out
    messages = [str(m) for m in (data if isinstance(data, list) else [data]) if str(m)]
    return {prefix or "non_field_errors": messages} if messages else {}


def _domain_error_to_api(exc: DomainError) -> exceptions.APIException:
    """A business refusal: its messages per field (a 400 by default), else its sentence, at its status."""
    fields = exc.field_errors()
    api_exc = exceptions.ValidationError(fields) if fields else exceptions.APIException(str(exc), code=exc.code)
    api_exc.status_code = exc.status_code
    return api_exc


def _domain_to_api(exc: Exception) -> Exception:
    """Domain errors raised by the services, as the API exceptions that carry their status code."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(detail=get_error_detail(exc))
    if isinstance(exc, DomainError):
        return _domain_error_to_api(exc)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The request body is larger than this server accepts.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    return exc


def exception_handler(exc: Exception, context: dict) -> Any:
    """Every API error as {"detail": sentence, "fields": {field: [messages]}}; Retry-After on 429."""
    exc = _domain_to_api(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(data)
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        detail = first[1][0] if first[0] == "non_field_errors" else f"{first[0]}: {first[1][0]}"
        response.data = {"detail": detail, "fields": fields}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"detail": str(data["detail"]), "fields": {}}
    else:
        response.data = {"detail": "Request refused.", "fields": _flatten(data)}
    return response


# --- schema ---------------------------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "One sentence for the person who asked."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field (nested fields as field.0.sub); empty when not about a field.",
        },
    },
    "required": ["detail", "fields"],
}
_ERROR_TEXT = {
    "400": "Invalid input; messages per field.",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found (or not yours).",
    "406": "Cannot produce the requested format.",
    "409": "Refused by a business rule in the record's current state.",
    "413": "Upload too large.",
    "415": "Unsupported content type.",
    "422": "Idempotency-Key reused with a different body.",
    "429": "Too many requests; see Retry-After.",
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Document the JSON error responses every operation can really return (see exception_handler)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = {"400", "406"}
            security = operation.get("security") or []
            if security and {} not in security:  # public operations have none, or an empty one
                codes |= {"401", "403"}
            if "{" in path or any(p.get("name") == "page" for p in operation.get("parameters", [])):
                codes.add("404")  # no such record, or a page past the end
            if method in ("post", "put", "patch"):
                codes |= {"409", "413", "415"}
            codes |= set(operation.pop("x-errors", []))
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                entry = {"description": _ERROR_TEXT[code], "content": {"application/json": {"schema": ref}}}
                if code == "429":
                    entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
                responses.setdefault(code, entry)
    return result
