"""Eval set upload: good files become cases; a bad file reports every bad row and yields no cases."""

import json

import pytest

from bakeoff_jobs import evalsets
from bakeoff_jobs.evalsets import EvalCaseData, RowError, parse_eval_file


def jsonl(*rows):
    return "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows).encode()


GOOD_ROWS = [
    {"prompt": "Capital of France?", "expected": "Paris", "scorer": "exact", "category": "trivia"},
    {
        "prompt": "Total?",
        "system_prompt": "Answer with a number.",
        "expected": 12.5,
        "scorer": "numeric",
        "scorer_options": {"tolerance": 0.01},
    },
    {"prompt": "Extract", "expected": "", "scorer": "json_schema",
     "scorer_options": {"schema": {"type": "object"}}},
]


def test_good_jsonl_becomes_cases_with_line_numbers():
    parsed = parse_eval_file(jsonl(*GOOD_ROWS[:1], "", *GOOD_ROWS[1:]), filename="set.jsonl")
    assert parsed.ok and parsed.errors == []
    assert [case.line for case in parsed.cases] == [1, 3, 4]
    assert parsed.cases[0] == EvalCaseData(
        line=1, prompt="Capital of France?", expected="Paris", scorer="exact", category="trivia"
    )
    total = parsed.cases[1]
    assert (total.expected, total.system_prompt, total.scorer_options) == (
        "12.5", "Answer with a number.", {"tolerance": 0.01},
    )


def test_jsonl_with_three_bad_rows_reports_three_errors_and_no_cases():
    data = jsonl(
        GOOD_ROWS[0],
        {"expected": "Paris", "scorer": "exact"},  # line 2: missing prompt
        GOOD_ROWS[1],
        {"prompt": "p", "expected": "x", "scorer": "fuzzy"},  # line 4: unknown scorer
        {"prompt": "p", "expected": "ten", "scorer": "numeric"},  # line 5: not a number
    )
    parsed = parse_eval_file(data, filename="set.jsonl")
    assert not parsed.ok and parsed.cases == []
    assert [error.line for error in parsed.errors] == [2, 4, 5]
    assert parsed.errors[0] == RowError(2, "missing prompt")
    assert parsed.errors[1].message.startswith("unknown scorer 'fuzzy'")
    assert parsed.errors[2].message == "numeric needs a number in expected, got 'ten'"


def test_every_kind_of_bad_row_is_reported_with_its_line(monkeypatch):
    monkeypatch.setattr(evalsets, "MAX_PROMPT_CHARS", 10)
    data = jsonl(
        {"prompt": "ok", "expected": "a", "scorer": "exact"},
        "{not json",
        {"prompt": "p", "expected": "([a-z", "scorer": "regex"},
        {"prompt": "p", "expected": "", "scorer": "json_schema", "scorer_options": {"schema": {"type": 5}}},
        {"prompt": "p" * 11, "expected": "a", "scorer": "exact"},
        {"prompt": "p", "expected": "a"},
        ["a", "list"],
        {"prompt": "p", "expected": "a", "scorer": "exact", "scorer_options": "[1]"},
        {"prompt": "p", "expected": "a", "scorer": "exact", "notes": "typo field"},
    )
    parsed = parse_eval_file(data, filename="set.jsonl")
    assert parsed.cases == []
    by_line = {error.line: error.message for error in parsed.errors}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert by_line[2].startswith("not valid JSON")
    assert by_line[3].startswith("bad regex")
    assert by_line[4].startswith("bad JSON schema")
    assert by_line[5] == "prompt is 11 characters; the limit is 10"
    assert by_line[6].startswith("missing scorer")
    assert by_line[7] == "each row must be a JSON object"
    assert by_line[8] == "scorer_options must be a JSON object"
    assert by_line[9].startswith("unknown field(s): notes")


def test_one_row_with_two_problems_reports_both():
    parsed = parse_eval_file(jsonl({"expected": "x", "scorer": "nope"}), filename="a.jsonl")
    assert [(e.line, e.message.split(" ")[0]) for e in parsed.errors] == [(1, "missing"), (1, "unknown")]


def test_csv_with_json_options_and_multiline_cells():
    data = (
        "prompt,expected,scorer,category,scorer_options\n"
        'Capital of France?,Paris,contains,trivia,"{""case_insensitive"": true}"\n'
        '"Classify:\nWIN A PRIZE",spam,label,triage,"{""labels"": [""spam"", ""ham""]}"\n'
        "\n"
        "Pi?,3.14,numeric,,\n"
    ).encode()
    parsed = parse_eval_file(data, filename="set.CSV")
    assert parsed.ok
    assert [case.line for case in parsed.cases] == [2, 3, 6]
    assert parsed.cases[0].scorer_options == {"case_insensitive": True}
    assert parsed.cases[1].prompt == "Classify:\nWIN A PRIZE"
    assert parsed.cases[2].category == "" and parsed.cases[2].scorer_options == {}


def test_csv_bad_rows_are_reported_by_line():
    data = (
        "prompt,expected,scorer,scorer_options\n"
        "ok,a,exact,\n"
        ",a,exact,\n"  # 3: missing prompt
        "p,a,exact,{broken\n"  # 4: bad JSON options
        "p,a,exact,,extra\n"  # 5: too many cells
    ).encode()
    parsed = parse_eval_file(data, filename="set.csv")
    assert parsed.cases == []
    assert [(e.line, e.message) for e in parsed.errors] == [
        (3, "missing prompt"),
        (4, "scorer_options is not valid JSON: Expecting property name enclosed in double quotes"),
        (5, "row has 5 cells but the header has 4"),
    ]


def test_csv_bad_header_is_a_file_error():
    parsed = parse_eval_file(b"question,answer,scorer\nq,a,exact\n", filename="set.csv")
    assert parsed.cases == []
    assert len(parsed.errors) == 1 and parsed.errors[0].line == 1
    message = parsed.errors[0].message
    assert "missing column(s): prompt, expected" in message
    assert "unknown column(s): question, answer" in message


def test_json_array_file_reports_the_line_each_item_starts_on():
    data = b'[\n  {"prompt": "a", "expected": "a", "scorer": "exact"},\n  {"prompt": "b", "scorer": "exact"}\n]\n'
    parsed = parse_eval_file(data, filename="set.json")
    assert parsed.errors == [RowError(3, "exact needs a non-empty expected answer")]
    good = b'[{"prompt": "a", "expected": "a", "scorer": "exact"}]'
    assert parse_eval_file(good, filename="set.json").ok


def test_explicit_format_overrides_the_extension():
    data = jsonl(GOOD_ROWS[0])
    assert parse_eval_file(data, filename="upload.bin", format="jsonl").ok
    parsed = parse_eval_file(data, filename="upload.bin")
    assert parsed.errors[0].line == 0 and "unsupported file type" in parsed.errors[0].message


def test_file_over_the_byte_limit_is_rejected_before_decoding(monkeypatch):
    monkeypatch.setattr(evalsets, "MAX_FILE_BYTES", 10)
    parsed = parse_eval_file(b"\xff" * 11, filename="set.jsonl")  # not UTF-8 either
    assert parsed.errors == [RowError(0, "file is 11 bytes; the limit is 10 bytes")]


def test_too_many_rows_is_a_file_error(monkeypatch):
    monkeypatch.setattr(evalsets, "MAX_ROWS", 2)
    parsed = parse_eval_file(jsonl(*[GOOD_ROWS[0]] * 3), filename="set.jsonl")
    assert parsed.cases == []
    assert parsed.errors == [RowError(0, "file has 3 rows; the limit is 2")]


def test_non_utf8_file_is_a_file_error_naming_the_line():
    data = jsonl(GOOD_ROWS[0]) + b"\n" + '{"prompt": "caf\u00e9"}'.encode("latin-1")
    parsed = parse_eval_file(data, filename="set.jsonl")
    assert parsed.errors == [RowError(0, "file is not UTF-8 text (first bad byte on line 2)")]


@pytest.mark.parametrize("data", [b"", b"  \n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_a_file_error(data):
    parsed = parse_eval_file(data, filename="set.jsonl")
    assert parsed.errors == [RowError(0, "file is empty")] and not parsed.ok


def test_csv_with_only_a_header_has_no_cases():
    parsed = parse_eval_file(b"prompt,expected,scorer\n", filename="set.csv")
    assert parsed.errors == [RowError(0, "file has no cases")]


def test_utf8_bom_and_scorer_spelling_are_tolerated():
    data = b"\xef\xbb\xbf" + jsonl({"prompt": "p", "expected": "{}", "scorer": "JSON-Valid"})
    parsed = parse_eval_file(data, filename="set.jsonl")
    assert parsed.ok and parsed.cases[0].scorer == "json_valid"


def test_row_error_reads_as_a_sentence():
    assert str(RowError(4, "missing prompt")) == "line 4: missing prompt"
    assert str(RowError(0, "file is empty")) == "file is empty"


def test_the_files_own_id_is_kept_as_text_in_jsonl_and_csv():
    parsed = parse_eval_file(jsonl(
        {"id": "refund-01", "prompt": "Refund?", "expected": "yes", "scorer": "exact"},
        {"id": 17, "prompt": "Ship?", "expected": "no", "scorer": "exact"},
        {"prompt": "No id here", "expected": "x", "scorer": "exact"},
    ), filename="set.jsonl")
    assert parsed.ok, parsed.errors
    assert [case.case_id for case in parsed.cases] == ["refund-01", "17", ""]

    csv_file = b"id,prompt,expected,scorer\nT-1,Hello?,hi,exact\n,Bye?,bye,exact\n"
    parsed = parse_eval_file(csv_file, filename="set.csv")
    assert parsed.ok, parsed.errors
    assert [case.case_id for case in parsed.cases] == ["T-1", ""]


def test_a_repeated_or_malformed_id_is_reported_by_line():
    parsed = parse_eval_file(jsonl(
        {"id": "a", "prompt": "p", "expected": "x", "scorer": "exact"},
        {"id": "b", "prompt": "p", "expected": "x", "scorer": "exact"},
        {"id": " a ", "prompt": "p", "expected": "x", "scorer": "exact"},  # the same id once trimmed
        {"id": 1.5, "prompt": "p", "expected": "x", "scorer": "exact"},
        {"id": True, "prompt": "p", "expected": "x", "scorer": "exact"},
        {"id": "x" * 101, "prompt": "p", "expected": "x", "scorer": "exact"},
    ), filename="set.jsonl")
    assert parsed.cases == []
    assert [str(e) for e in parsed.errors] == [
        'line 3: id "a" is already used on line 1',
        "line 4: id must be text or a whole number",
        "line 5: id must be text or a whole number",
        "line 6: id is 101 characters; the limit is 100",
    ]
