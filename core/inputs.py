"""Limits every input shares, so hostile or careless input is a clear error, never a server error.

- Text: no NUL character (PostgreSQL text cannot hold one) and no unpaired UTF-16 surrogate
  (it cannot be encoded as UTF-8), in any field, key or nested value.
- JSON: at most ``MAX_JSON_DEPTH`` levels of arrays and objects, numbers of at most
  ``MAX_JSON_NUMBER_CHARS`` characters, finite numbers only (no NaN or Infinity).
- Integer query parameters: digits only, within the range the database can compare or skip.
- One-line text typed by the public (names): ``single_line_text`` makes it one plain line before
  it is stored, so it can travel into email subjects, other people's pages and filings as seen.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError

MAX_JSON_DEPTH = 64
MAX_JSON_NUMBER_CHARS = 100
# Offsets and page numbers from query strings: far beyond any real table, far below bigint.
MAX_QUERY_INT = 2**31 - 1

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (a NUL or an unpaired surrogate), or None if it can.
    The message never repeats the character."""
    match = _BAD_TEXT.search(value)
    if match is None:
        return None
    position = match.start() + 1
    if match.group() == "\x00":
        return f"contains a NUL character (at character {position}); remove it"
    return (
        f"contains an unpaired UTF-16 surrogate (U+{ord(match.group()):04X} at character {position}), "
        "which is not valid Unicode text"
    )


# Joiners that spell some scripts (Persian, Indic, emoji sequences): kept between two non-ASCII
# letters or symbols, dropped elsewhere (where they only make "Acme" and "Acme\u200d" differ).
_JOINERS = "\u200c\u200d"


def _invisible(text: str, index: int) -> bool:
    char = text[index]
    if unicodedata.category(char) != "Cf":
        return False
    if char not in _JOINERS:
        return True  # bidi overrides and isolates, zero-width space, BOM, soft hyphen, …
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return not (before and after and not before.isascii() and not after.isascii()
                and not before.isspace() and not after.isspace())


def single_line_text(value: str) -> str:
    """`value` as one plain line: NFC, no format characters (bidi overrides that reverse what a
    reader sees, zero-width characters that make two equal names differ), every line break, tab,
    control character and run of whitespace one space, trimmed. A name typed on the public form
    goes into email subjects, partners' pages and filings; nothing in it can start a new header
    line or show other than it compares."""
    text = unicodedata.normalize("NFC", value)
    kept = "".join(
        # NUL stays, for validate_plain_text to refuse by name.
        " " if char != "\x00" and unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for index, char in enumerate(text) if not _invisible(text, index)
    )
    return " ".join(kept.split())


def email_address_text(value: str) -> str:
    """An email address as stored and compared: trimmed, NFKC and lower-cased, so a domain typed in
    fullwidth or compatibility letters ("ａcme.example", which mail servers deliver to acme.example)
    is the address it reaches: one inbox, one spelling, shown to partners as it will be delivered."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def validate_plain_text(value: Any) -> None:
    """Django validator: refuses a NUL character or an unpaired surrogate."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValidationError(f"This value {problem}.", code="bad_text")


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (path, problem) for a string key or value in a JSON-like value that cannot be
    stored as text; None when every string is clean. Paths read like "scorer_options.labels.2";
    a bad key is named by its position, never by its text."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return where, problem
        elif isinstance(item, dict):
            for index, (key, child) in enumerate(item.items()):
                key_text = str(key)
                if text_problem(key_text):
                    name = f"key {index + 1}"
                    return (f"{where}.{name}" if where else name), f"name {text_problem(key_text)}"
                stack.append((child, f"{where}.{key_text}" if where else key_text))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{where}.{i}" if where else str(i)) for i, child in enumerate(item))
    return None


# --- JSON ----------------------------------------------------------------------------------------


class JSONLimitError(ValueError):
    """JSON that is well-formed but beyond what CloudRoute accepts, or not JSON at all.
    ``msg`` is the sentence for the person who sent it (as json.JSONDecodeError's)."""

    def __init__(self, msg: str, *, lineno: int | None = None, colno: int | None = None):
        super().__init__(msg if lineno is None else f"{msg} (line {lineno}, column {colno})")
        self.msg, self.lineno, self.colno = msg, lineno, colno


def _parse_int(text: str) -> int:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise JSONLimitError(f"a number has {len(text):,} digits; the limit is {MAX_JSON_NUMBER_CHARS}")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise JSONLimitError(f"a number has {len(text):,} characters; the limit is {MAX_JSON_NUMBER_CHARS}")
    number = float(text)
    if not math.isfinite(number):
        raise JSONLimitError(f"the number {text} is too large")
    return number


def _parse_constant(name: str) -> None:
    raise JSONLimitError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            items = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in items)
    return deepest


def _check_depth(value: Any, max_depth: int) -> Any:
    if _depth(value) > max_depth:
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep")
    return value


class LimitedJSONDecoder(json.JSONDecoder):
    """json.JSONDecoder within the limits above; every failure is a ValueError with ``msg``."""

    def __init__(self, max_depth: int = MAX_JSON_DEPTH):
        super().__init__(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
        self.max_depth = max_depth

    def raw_decode(self, s: str, idx: int = 0) -> tuple[Any, int]:
        try:
            value, end = super().raw_decode(s, idx)
        except RecursionError:
            raise JSONLimitError(f"JSON nested more than {self.max_depth} levels deep") from None
        except JSONLimitError:
            raise
        except json.JSONDecodeError as exc:
            raise JSONLimitError(exc.msg, lineno=exc.lineno, colno=exc.colno) from None
        except ValueError as exc:  # e.g. an integer beyond the interpreter's digit limit
            raise JSONLimitError(str(exc)) from None
        return _check_depth(value, self.max_depth), end


def json_loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads within the limits above. Raises JSONLimitError (a ValueError) with ``msg``."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONLimitError(f"not UTF-8 text (byte {exc.start + 1})") from None
    decoder = LimitedJSONDecoder(max_depth=max_depth)
    start = len(text) - len(text.lstrip())
    value, end = decoder.raw_decode(text, start)
    if text[end:].strip():
        raise JSONLimitError(f"extra data after the JSON value (character {end + 1})")
    return value


# --- query strings -------------------------------------------------------------------------------


def query_int(params, name: str, *, default: int, minimum: int = 0, maximum: int = MAX_QUERY_INT) -> int:
    """An integer query parameter, clamped to [minimum, maximum]; `default` when absent or not a
    plain number (no sign, at most 18 digits)."""
    raw = (params.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return default
    return min(max(int(raw), minimum), maximum)


class QueryStringTextMiddleware:
    """A query string carrying a NUL character (%00) is a 400 naming the parameter, before any
    view, filter or admin lookup hands it to the database (PostgreSQL refuses it with an error).
    Unpaired surrogates cannot arrive this way: Django decodes query strings with replacement."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            problem = text_problem(name) or next((text_problem(v) for v in values if text_problem(v)), None)
            if problem:
                return _bad_query_parameter(request, name, problem)
        return self.get_response(request)


def _bad_query_parameter(request, name: str, problem: str):
    from django.http import HttpResponseBadRequest, JsonResponse

    label = name.replace("\x00", "") or "(unnamed)"
    message = f"The query parameter {label} {problem}."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "fields": {label: [message]}}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
