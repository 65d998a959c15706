"""Eval set files an attacker or a careless exporter sends, each with the line its error must name.
Shared by the parser, service, API and upload-page tests: every one is a per-line error, never a
server error, and stores nothing."""
import json

import pytest

CSV_HEADER = "prompt,expected,scorer,category,id,scorer_options,system_prompt\n"


def _row(**fields) -> dict:
    return {"prompt": "Capital of France?", "expected": "Paris", "scorer": "contains", **fields}


def _jsonl(*rows, good_first: bool = True) -> bytes:
    lines = [json.dumps(_row())] if good_first else []
    # json.dumps writes a lone surrogate as the escape \ud800, as an attacker's file would.
    lines += [row if isinstance(row, str) else json.dumps(row) for row in rows]
    return "\n".join(lines).encode()


def _nested_schema(levels: int) -> str:
    return '{"items": ' * levels + "{}" + "}" * levels


_DEEP = "[" * 100_000
_HUGE_INT = "9" * 5000

# (id, filename, content, line the error names)
HOSTILE = [
    *[pytest.param("cases.jsonl", _jsonl(_row(**{field: "ab\x00cd"})), 2, id=f"nul-in-{field}")
      for field in ("prompt", "expected", "system_prompt", "category", "id")],
    pytest.param("cases.jsonl", _jsonl(_row(scorer="con\x00tains")), 2, id="nul-in-scorer"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="llm_judge", scorer_options={"rubric": "a\x00"})), 2,
                 id="nul-in-scorer-options"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer_options={"case_insensitive\x00": True})), 2,
                 id="nul-in-an-option-name"),
    pytest.param("cases.jsonl", _jsonl({**_row(), "prompt\x00": "x"}), 2, id="nul-in-a-field-name"),
    pytest.param("cases.csv", (CSV_HEADER + "ok,Paris,contains,,,,\nab\x00c,Paris,contains,,,,\n").encode(), 3,
                 id="raw-nul-in-csv-cell"),
    pytest.param("cases.csv", b"prompt,expected,scorer,cat\x00egory\nok,Paris,contains,x\n", 1,
                 id="raw-nul-in-csv-header"),
    *[pytest.param("cases.jsonl", _jsonl(_row(**{field: "ab\ud800cd"})), 2, id=f"surrogate-in-{field}")
      for field in ("prompt", "expected", "system_prompt", "category", "id", "scorer")],
    pytest.param("cases.jsonl", _jsonl({**_row(), "\udfff": "x"}), 2, id="surrogate-as-a-field-name"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="label", expected="bug", scorer_options={"labels": ["bug", "\ud800"]})),
                 2, id="surrogate-in-an-option"),
    pytest.param("cases.jsonl", _jsonl(_row(category="c" * 61)), 2, id="category-longer-than-its-column"),
    pytest.param("cases.jsonl", _jsonl(_DEEP), 2, id="deeply-nested-jsonl-line"),
    pytest.param("cases.json", ("[" + json.dumps(_row()) + "," + _DEEP).encode(), 1, id="deeply-nested-json-array"),
    pytest.param("cases.jsonl", _jsonl(json.dumps(_row(scorer="json_schema", expected=""))[:-1]
                                       + ', "scorer_options": ' + '{"schema": ' * 5000 + "{}" + "}" * 5001),
                 2, id="deeply-nested-scorer-options"),
    pytest.param("cases.csv", (CSV_HEADER + 'ok,Paris,contains,,,"' + '{""a"": ' * 5000 + "1" + "}" * 5000
                               + '",\n').encode(), 2, id="deeply-nested-scorer-options-in-csv"),
    pytest.param("cases.jsonl", _jsonl(f'{{"prompt": "p", "expected": {_HUGE_INT}, "scorer": "numeric"}}'), 2,
                 id="5000-digit-expected"),
    pytest.param("cases.jsonl", _jsonl(f'{{"id": {_HUGE_INT}, "prompt": "p", "expected": "x", "scorer": "exact"}}'), 2,
                 id="5000-digit-id"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="numeric", expected=_HUGE_INT)), 2, id="5000-digit-numeric-text"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="numeric", expected="1e999999999")), 2, id="huge-exponent"),
    pytest.param("cases.jsonl", _jsonl('{"prompt": "p", "expected": "1", "scorer": "numeric", '
                                       '"scorer_options": {"tolerance": NaN}}'), 2, id="nan-tolerance"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="regex", expected="a{4294967296}")), 2, id="regex-repeat-overflow"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="regex", expected="(" * 5000)), 2, id="regex-5000-groups"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="regex", expected="(" * 400 + "a" + ")" * 400 + "{4294967296}")),
                 2, id="regex-nested-overflow"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="json_schema", expected=_nested_schema(5000))), 2,
                 id="deeply-nested-schema-in-expected"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="json_schema", expected="",
                                            scorer_options={"schema": {"type": "string", "pattern": "a{4294967296}"}})),
                 2, id="schema-pattern-overflow"),
    pytest.param("cases.jsonl", _jsonl(_row(scorer="json_schema", expected="",
                                            scorer_options={"schema": {"type": "string", "pattern": "(" * 5000}})),
                 2, id="schema-pattern-too-deep"),
    pytest.param("cases.jsonl", _jsonl('{"prompt": "p", "expected": "", "scorer": "json_schema", '
                                       '"scorer_options": {"schema": {"const": Infinity}}}'), 2, id="infinity-in-schema"),
]
