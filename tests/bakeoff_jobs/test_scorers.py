"""Every scorer passes the outputs it should and fails the ones it should."""

import pytest

from bakeoff_jobs.scorers import (
    SCORER_NAMES,
    JudgeReply,
    ScorerError,
    extract_json_text,
    first_number,
    parse_judge_reply,
    score_output,
    validate_scorer,
)


def score(scorer, output, expected="", **options):
    return score_output(scorer, output=output, expected=expected, options=options)


def test_scorer_names_cover_every_documented_scorer():
    assert set(SCORER_NAMES) == {
        "exact", "contains", "regex", "json_valid", "json_schema", "numeric", "label", "llm_judge",
    }


# exact -----------------------------------------------------------------------------------


def test_exact_ignores_surrounding_whitespace():
    result = score("exact", "  Paris\n", "Paris")
    assert result.passed and result.score == 1.0


def test_exact_fails_on_different_text_and_is_case_sensitive_by_default():
    assert not score("exact", "paris", "Paris").passed
    assert not score("exact", "Paris, France", "Paris").passed
    assert score("exact", "result: 0", "Result: 0").score == 0.0


def test_exact_case_insensitive_option():
    assert score("exact", "PARIS", "paris", case_insensitive=True).passed


# contains --------------------------------------------------------------------------------


def test_contains_finds_expected_inside_output():
    assert score("contains", "The capital is Paris.", "Paris").passed
    assert not score("contains", "The capital is Lyon.", "Paris").passed


def test_contains_case_insensitive_option():
    assert not score("contains", "the capital is paris", "Paris").passed
    assert score("contains", "the capital is paris", "Paris", case_insensitive=True).passed


# regex -----------------------------------------------------------------------------------


def test_regex_searches_anywhere_in_the_output():
    result = score("regex", "Order id: INV-2031 confirmed", r"INV-\d{4}")
    assert result.passed and "INV-2031" in result.detail
    assert not score("regex", "Order id: INV-20 confirmed", r"INV-\d{4}").passed


def test_regex_flags_option():
    assert not score("regex", "ANSWER: yes", r"^answer: yes$").passed
    assert score("regex", "ANSWER: yes", r"^answer: yes$", flags="i").passed
    assert score("regex", "intro\nanswer: yes\n", r"^answer: yes$", flags=["i", "m"]).passed


def test_regex_with_bad_pattern_is_a_validation_error():
    errors = validate_scorer("regex", expected="([a-z", options={})
    assert len(errors) == 1 and errors[0].startswith("bad regex")
    assert validate_scorer("regex", expected="a", options={"flags": "q"})


# json ------------------------------------------------------------------------------------


def test_json_valid_accepts_plain_and_fenced_json():
    assert score("json_valid", '{"a": 1}').passed
    assert score("json_valid", 'Here you go:\n```json\n{"a": [1, 2]}\n```\nDone.').passed
    assert score("json_valid", "```\n[1, 2]\n```").passed


def test_json_valid_rejects_broken_json():
    result = score("json_valid", "{'a': 1}")
    assert not result.passed and result.detail.startswith("not valid JSON")


def test_extract_json_text_takes_the_fence_body():
    assert extract_json_text('x\n```json\n{"k": 2}\n```') == '{"k": 2}'
    assert extract_json_text('  {"k": 2} ') == '{"k": 2}'


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "total": {"type": "number"}},
    "required": ["name", "total"],
}


def test_json_schema_passes_a_fenced_document_that_matches():
    output = '```json\n{"name": "ACME", "total": 12.5}\n```'
    assert score("json_schema", output, schema=SCHEMA).passed


def test_json_schema_fails_a_document_that_breaks_the_schema():
    result = score("json_schema", '{"name": "ACME", "total": "12.5"}', schema=SCHEMA)
    assert not result.passed
    assert "total" in result.detail and "not of type 'number'" in result.detail
    assert not score("json_schema", '{"name": "ACME"}', schema=SCHEMA).passed
    assert not score("json_schema", "not json", schema=SCHEMA).passed


def test_json_schema_may_be_given_in_expected():
    import json

    assert score("json_schema", '{"name": "a", "total": 1}', json.dumps(SCHEMA)).passed


def test_bad_json_schema_is_a_validation_error():
    errors = validate_scorer("json_schema", expected="", options={"schema": {"type": "nonsense"}})
    assert len(errors) == 1 and errors[0].startswith("bad JSON schema")
    assert validate_scorer("json_schema", expected="not json", options={})


# numeric ---------------------------------------------------------------------------------


def test_numeric_uses_the_first_number_in_the_output():
    assert score("numeric", "The total is $1,234.50 (tax 10).", "1234.5").passed
    assert not score("numeric", "Tax 10, total 1234.5", "1234.5").passed


def test_numeric_absolute_tolerance_edges():
    # |3.15 - 3.14| = 0.01 <= 0.01 passes; |3.16 - 3.14| = 0.02 > 0.01 fails
    assert score("numeric", "pi is 3.15", "3.14", tolerance=0.01).passed
    assert not score("numeric", "pi is 3.16", "3.14", tolerance=0.01).passed


def test_numeric_relative_tolerance():
    # 2% of 200 = 4: 204 passes (off by 4), 205 fails (off by 5)
    assert score("numeric", "204", "200", relative_tolerance=0.02).passed
    assert not score("numeric", "205", "200", relative_tolerance=0.02).passed


def test_numeric_without_tolerance_needs_the_same_value():
    assert score("numeric", "42.0", "42").passed
    assert score("numeric", "-7 degrees", "-7").passed
    assert not score("numeric", "43", "42").passed
    result = score("numeric", "no idea", "42")
    assert not result.passed and "no number" in result.detail


def test_first_number_reads_signs_separators_and_exponents():
    assert str(first_number("about -1,000,000.5 units")) == "-1000000.5"
    assert str(first_number("x = 2.5e3")) == "2.5E+3"
    assert first_number("none here") is None


def test_numeric_with_non_numeric_expected_is_a_validation_error():
    assert validate_scorer("numeric", expected="about ten", options={}) == [
        "numeric needs a number in expected, got 'about ten'"
    ]
    assert validate_scorer("numeric", expected="10", options={"tolerance": -1})


# label -----------------------------------------------------------------------------------

LABELS = ["spam", "not spam", "urgent"]


def test_label_normalises_case_and_punctuation():
    assert score("label", "  Spam.\n", "spam").passed
    assert score("label", "Label: URGENT", "urgent").passed
    assert not score("label", "urgent", "spam").passed


def test_label_matches_the_output_to_an_allowed_label():
    # "not spam" and "spam" both occur at the same place; the longer label wins
    assert score("label", "This is not spam.", "not spam", labels=LABELS).passed
    assert not score("label", "This is not spam.", "spam", labels=LABELS).passed
    assert score("label", "I'd call it Spam, clearly.", "spam", labels=LABELS).passed
    result = score("label", "I can't tell", "spam", labels=LABELS)
    assert not result.passed and "none of the labels" in result.detail


def test_label_expected_must_be_an_allowed_label():
    errors = validate_scorer("label", expected="ham", options={"labels": LABELS})
    assert errors == ["expected label 'ham' is not one of the labels ['spam', 'not spam', 'urgent']"]


# llm_judge -------------------------------------------------------------------------------


class RecordingJudge:
    def __init__(self, text, input_tokens=120, output_tokens=30):
        self.reply = JudgeReply(text=text, input_tokens=input_tokens, output_tokens=output_tokens)
        self.calls = []

    def __call__(self, system, prompt):
        self.calls.append((system, prompt))
        return self.reply


def judged(text, **options):
    judge = RecordingJudge(text)
    options = {"rubric": "Mentions the refund window of 30 days.", **options}
    result = score_output(
        "llm_judge", output="Refunds within 30 days.", expected="30 days", options=options, judge=judge
    )
    return result, judge


def test_llm_judge_pass_reports_score_and_judge_tokens_separately():
    result, judge = judged("Covers the window.\nSCORE: 9\nVERDICT: PASS")
    assert result.passed and result.score == pytest.approx(0.9)
    assert (result.judge_input_tokens, result.judge_output_tokens) == (120, 30)
    system, prompt = judge.calls[0]
    assert "SCORE" in system and "refund window" in prompt
    assert "Refunds within 30 days." in prompt and "30 days" in prompt


def test_llm_judge_fail_verdict():
    result, _ = judged("Wrong window.\nSCORE: 2/10\nVERDICT: FAIL")
    assert not result.passed and result.score == pytest.approx(0.2)


def test_llm_judge_parses_sloppy_verdicts():
    result, _ = judged("**Score:** 8 out of 10\n**Verdict**: pass")
    assert result.passed and result.score == pytest.approx(0.8)
    assert parse_judge_reply("score = 3\nFAIL") == (3.0, False)
    # the last verdict line wins over an earlier quoted one
    assert parse_judge_reply("The rubric says VERDICT: PASS if ...\nSCORE: 4\nVERDICT: FAIL") == (
        4.0,
        False,
    )


def test_llm_judge_score_without_verdict_uses_the_threshold():
    assert judged("SCORE: 7")[0].passed  # default threshold 7
    assert not judged("SCORE: 6")[0].passed
    assert not judged("SCORE: 7", pass_threshold=8)[0].passed


def test_llm_judge_unparseable_reply_fails_but_keeps_token_usage():
    result, _ = judged("I think it is fine.")
    assert not result.passed and result.score == 0.0
    assert result.judge_input_tokens == 120 and "no SCORE" in result.detail


def test_llm_judge_without_a_judge_raises_a_clear_error():
    with pytest.raises(ScorerError, match="needs a judge model"):
        score_output("llm_judge", output="x", expected="", options={"rubric": "r"})


def test_llm_judge_needs_a_rubric():
    assert validate_scorer("llm_judge", expected="", options={}) == [
        "llm_judge needs a rubric in scorer_options.rubric"
    ]


# validation ------------------------------------------------------------------------------


def test_unknown_scorer_and_unknown_options_are_reported():
    assert validate_scorer("fuzzy", expected="x", options={})[0].startswith("unknown scorer 'fuzzy'")
    errors = validate_scorer("numeric", expected="1", options={"tolerence": 0.1})
    assert errors == ["unknown option(s) for numeric: tolerence (allowed: relative_tolerance, tolerance)"]


def test_score_output_refuses_an_invalid_configuration():
    with pytest.raises(ScorerError, match="bad regex"):
        score("regex", "x", "(")
