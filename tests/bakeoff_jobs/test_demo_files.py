"""The demo eval set and the sandbox script that `make run` uses stay valid and agree."""
import json
from pathlib import Path

from bakeoff_jobs.evalsets import parse_eval_file
from bedrock_sandbox.config import ModelBehaviour, load_script
from bakeoff_jobs.scorers import score_output

DEMO = Path(__file__).resolve().parents[2] / "demo"


def test_demo_eval_set_parses_and_spans_categories():
    parsed = parse_eval_file((DEMO / "support-eval-set.jsonl").read_bytes(), filename="support-eval-set.jsonl")
    assert parsed.errors == []
    assert len(parsed.cases) == 12
    assert {case.category for case in parsed.cases} == {"extraction", "triage", "hard-analysis"}


def test_every_demo_case_has_a_scripted_answer_that_passes_its_scorer():
    parsed = parse_eval_file((DEMO / "support-eval-set.jsonl").read_bytes(), filename="support-eval-set.jsonl")
    script = load_script(str(DEMO / "sandbox-script.jsonl"))
    for case in parsed.cases:
        answers = [line.answer for line in script if line.prompt_contains in case.prompt]
        assert len(answers) == 1, case.prompt
        result = score_output(case.scorer, output=answers[0], expected=case.expected, options=case.scorer_options)
        assert result.passed, (case.prompt, answers[0], result.detail)


def test_demo_model_behaviours_load():
    behaviours = json.loads((DEMO / "sandbox-models.json").read_text())
    loaded = {pattern: ModelBehaviour.from_dict(values) for pattern, values in behaviours.items()}
    assert all(0 < b.accuracy <= 1 for b in loaded.values())
