"""Eval set upload: parse a JSONL/JSON/CSV file into cases, or report every bad row by line number.

Fields (JSON keys or CSV header columns): ``prompt`` (required), ``expected`` (required except
for ``json_valid``; a JSON number/object is kept as its JSON text), ``scorer`` (required, see
``scorers.SCORER_NAMES``), ``id`` (the uploader's own name for the case, text or a whole number,
at most 100 characters, unique in the file; the report and its export carry it), ``system_prompt``,
``category`` (at most 60 characters) and ``scorer_options`` (a JSON object; in CSV a cell holding
JSON text) are optional.
Any other field is an error, so a typo such as ``scorer_option`` is reported instead of silently
ignored.

Every text (any field, in CSV any cell) must be storable: no NUL character and no unpaired
surrogate. JSON stays within core.inputs' limits (nesting depth, number length, no NaN).

The whole file is validated before anything is accepted: a file with any error yields no cases.
Line numbers are the physical line a row starts on (1-based; a CSV header is line 1; a quoted
CSV cell may span lines). Line 0 marks an error about the whole file. Blank lines are skipped.
A ``.json`` file may be a JSON array of objects or JSON Lines.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePath

from bakeoff_jobs.scorers import SCORER_NAMES, validate_scorer
from core.inputs import JSONLimitError, LimitedJSONDecoder, find_bad_text, json_loads, text_problem

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_PROMPT_CHARS = 100_000

REQUIRED_FIELDS = ("prompt", "expected", "scorer")
OPTIONAL_FIELDS = ("id", "system_prompt", "category", "scorer_options")
MAX_CASE_ID_CHARS = 100
MAX_CATEGORY_CHARS = 60
ALL_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
FORMATS = ("jsonl", "json", "csv")


@dataclass(frozen=True)
class EvalCaseData:
    line: int
    prompt: str
    expected: str
    scorer: str
    system_prompt: str = ""
    category: str = ""
    scorer_options: dict = field(default_factory=dict)
    case_id: str = ""  # the file's own "id" for the case, if it had one


@dataclass(frozen=True)
class RowError:
    line: int  # 0 = the whole file
    message: str

    def __str__(self) -> str:
        return self.message if self.line == 0 else f"line {self.line}: {self.message}"


@dataclass
class ParsedEvalSet:
    cases: list[EvalCaseData]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.cases)


def parse_eval_file(data: bytes, *, filename: str = "", format: str | None = None) -> ParsedEvalSet:
    """Parse an uploaded eval set. ``format`` ("jsonl", "json", "csv") overrides the extension."""
    fmt = (format or PurePath(filename).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        return _failed(f"unsupported file type {fmt or filename!r}; upload .jsonl, .json or .csv")
    if len(data) > MAX_FILE_BYTES:
        return _failed(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _failed(f"file is not UTF-8 text (first bad byte on line {line})")
    if not text.strip():
        return _failed("file is empty")

    errors: list[RowError] = []
    if fmt == "csv":
        rows = _csv_rows(text, errors)
    elif fmt == "json" and text.lstrip().startswith("["):
        rows = _json_array_rows(text, errors)
    else:
        rows = _jsonl_rows(text, errors)

    cases: list[EvalCaseData] = []
    first_line_of_id: dict[str, int] = {}
    for line, row in rows:
        case = _case_from_row(line, row, fmt, errors)
        if case is None:
            continue
        if case.case_id:
            if case.case_id in first_line_of_id:
                errors.append(RowError(line, f'id "{case.case_id}" is already used on line {first_line_of_id[case.case_id]}'))
                continue
            first_line_of_id[case.case_id] = line
        cases.append(case)

    row_count = len(rows)
    if row_count > MAX_ROWS:
        errors.insert(0, RowError(0, f"file has {row_count:,} rows; the limit is {MAX_ROWS:,}"))
    if row_count == 0 and not errors:
        errors.append(RowError(0, "file has no cases"))
    errors.sort(key=lambda error: error.line)
    return ParsedEvalSet(cases=[] if errors else cases, errors=errors)


def _failed(message: str) -> ParsedEvalSet:
    return ParsedEvalSet(cases=[], errors=[RowError(0, message)])


# --------------------------------------------------------------------------- readers
# Each reader returns (line, row) pairs; a row it cannot read becomes an error instead (and is
# still counted against MAX_ROWS as None).


def _jsonl_rows(text: str, errors: list[RowError]) -> list[tuple[int, object]]:
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            rows.append((line, json_loads(raw)))
        except JSONLimitError as exc:
            where = f" (column {exc.colno})" if exc.colno else ""
            errors.append(RowError(line, f"not valid JSON: {exc.msg}{where}"))
            rows.append((line, None))
    return rows


def _json_array_rows(text: str, errors: list[RowError]) -> list[tuple[int, object]]:
    decoder = LimitedJSONDecoder()
    rows: list[tuple[int, object]] = []
    pos = text.index("[") + 1

    def skip_space(at: int) -> int:
        while at < len(text) and text[at].isspace():
            at += 1
        return at

    pos = skip_space(pos)
    if pos < len(text) and text[pos] == "]":
        return rows
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except JSONLimitError as exc:
            errors.append(RowError(line, f"not valid JSON: {exc.msg}; stopped reading the file"))
            return rows
        rows.append((line, item))
        pos = skip_space(pos)
        if pos < len(text) and text[pos] == ",":
            pos = skip_space(pos + 1)
            continue
        if pos < len(text) and text[pos] == "]" and not text[pos + 1 :].strip():
            return rows
        line = text.count("\n", 0, pos) + 1
        errors.append(RowError(line, "expected ',' or the closing ']' of the JSON array"))
        return rows


def _csv_rows(text: str, errors: list[RowError]) -> list[tuple[int, object]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, object]] = []
    header: list[str] | None = None
    header_line = 0
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in cells], start
                if not _header_ok(header, header_line, errors):
                    return []
                continue
            if len(cells) > len(header):
                errors.append(
                    RowError(start, f"row has {len(cells)} cells but the header has {len(header)}")
                )
                rows.append((start, None))
                continue
            rows.append((start, dict(zip(header, cells))))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"unreadable CSV: {exc}; stopped reading the file"))
    return rows


def _header_ok(header: list[str], line: int, errors: list[RowError]) -> bool:
    problems = []
    bad = next((i for i, name in enumerate(header, start=1) if text_problem(name)), None)
    if bad is not None:
        errors.append(RowError(line, f"bad CSV header: the name of column {bad} {text_problem(header[bad - 1])}"))
        return False
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = [name for name in header if name and name not in ALL_FIELDS]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if "" in header:
        problems.append("a column has no name")
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        problems.append(f"duplicated column(s): {', '.join(duplicated)}")
    if problems:
        allowed = ", ".join(ALL_FIELDS)
        errors.append(RowError(line, f"bad CSV header: {'; '.join(problems)} (allowed: {allowed})"))
        return False
    return True


# --------------------------------------------------------------------------- row validation


def _text_field(row: dict, name: str, problems: list[str]) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, dict, list)) and name == "expected":
        return json.dumps(value)
    problems.append(f"{name} must be text")
    return ""


def _case_from_row(line: int, row: object, fmt: str, errors: list[RowError]) -> EvalCaseData | None:
    if row is None:  # already reported by the reader
        return None
    if not isinstance(row, dict):
        errors.append(RowError(line, "each row must be a JSON object"))
        return None
    bad = find_bad_text(row)
    if bad is not None:  # reported without repeating the text, and nothing else read from the row
        where, problem = bad
        errors.append(RowError(line, f"{where} {problem}" if where else problem))
        return None
    problems: list[str] = []
    unknown = sorted(key for key in row if key not in ALL_FIELDS)
    if unknown:
        problems.append(f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(ALL_FIELDS)})")

    prompt = _text_field(row, "prompt", problems)
    system_prompt = _text_field(row, "system_prompt", problems)
    expected = _text_field(row, "expected", problems)
    scorer = _text_field(row, "scorer", problems).strip().lower().replace("-", "_")
    category = _text_field(row, "category", problems).strip()
    options = _options_field(row.get("scorer_options"), problems)
    case_id = _case_id_field(row.get("id"), problems)

    if not prompt.strip():
        problems.append("missing prompt")
    elif len(prompt) > MAX_PROMPT_CHARS:
        problems.append(f"prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}")
    if len(system_prompt) > MAX_PROMPT_CHARS:
        problems.append(
            f"system_prompt is {len(system_prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}"
        )
    if len(category) > MAX_CATEGORY_CHARS:
        problems.append(f"category is {len(category):,} characters; the limit is {MAX_CATEGORY_CHARS}")
    if not scorer:
        problems.append(f"missing scorer (one of: {', '.join(SCORER_NAMES)})")
    elif options is not None:
        problems.extend(validate_scorer(scorer, expected=expected, options=options))

    if problems:
        errors.extend(RowError(line, problem) for problem in problems)
        return None
    return EvalCaseData(
        line=line,
        prompt=prompt,
        expected=expected,
        scorer=scorer,
        system_prompt=system_prompt,
        category=category,
        scorer_options=options,
        case_id=case_id,
    )


def _case_id_field(value: object, problems: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.append("id must be text or a whole number")
        return ""
    case_id = str(value).strip()
    if len(case_id) > MAX_CASE_ID_CHARS:
        problems.append(f"id is {len(case_id):,} characters; the limit is {MAX_CASE_ID_CHARS}")
        return ""
    return case_id


def _options_field(value: object, problems: list[str]) -> dict | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json_loads(value)
        except JSONLimitError as exc:
            problems.append(f"scorer_options is not valid JSON: {exc.msg}")
            return None
    if not isinstance(value, dict):
        problems.append("scorer_options must be a JSON object")
        return None
    return value
