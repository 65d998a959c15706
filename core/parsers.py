"""The API's JSON parser: the limits of core.inputs on every JSON body, so deeply nested
JSON, a number of thousands of digits, NaN, a NUL character or an unpaired surrogate is a 400
(naming the field when it is about one), never a server error."""
from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from .inputs import JSONLimitError, find_bad_text, json_loads


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            data = json_loads(raw.decode(encoding))
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is not {encoding} text (byte {exc.start + 1}).")
        except JSONLimitError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}.")
        bad = find_bad_text(data)
        if bad is not None:
            field, problem = bad
            raise exceptions.ValidationError({field or "non_field_errors": [f"This value {problem}."]})
        return data
