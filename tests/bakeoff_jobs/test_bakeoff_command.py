"""manage.py bakeoff: runs an eval file against the models and prints the report."""
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from bakeoff_jobs.catalog import catalog_load
from bakeoff_jobs.models import BakeoffRun, EvalSet
from bedrock_sandbox.config import ScriptLine

from .factories import EngagementFactory, claude_haiku_45, llama_8b

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings, bedrock_sandbox, celery_eager):
    settings.BEDROCK_ENDPOINT_URL = bedrock_sandbox.url
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="France", answer="Paris")]
    return bedrock_sandbox


@pytest.fixture
def eval_file(tmp_path):
    path = tmp_path / "capitals.jsonl"
    path.write_text("\n".join(json.dumps(
        {"prompt": f"Q{i}: capital of France?", "expected": "Paris", "scorer": "contains", "category": "extraction"}
    ) for i in range(3)))
    return path


def test_json_prints_the_whole_report_as_one_document(eager, eval_file, capsys):
    haiku, llama = claude_haiku_45(), llama_8b()
    engagement = EngagementFactory()
    call_command("bakeoff", str(eval_file), "--models", f"{haiku.model_id},{llama.inference_profile_id}",
                 "--engagement", str(engagement.pk), "--json", "--max-tokens", "32")
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["sandbox"] is True and report["run"]["engagement_id"] == engagement.pk
    assert [m["pass_rate"] for m in report["models"]] == [1.0, 1.0]
    assert report["models"][0]["monthly_usd"]["on_demand"] is not None  # the founder's workload
    assert report["models"][0]["runway_months"]["on_demand"] is not None  # the matched credits
    assert "6/6" in err and "estimated cost: $" in err
    assert BakeoffRun.objects.get().report == report


def test_text_report_says_it_came_from_the_sandbox(eager, eval_file, capsys):
    haiku, llama = claude_haiku_45(), llama_8b()
    call_command("bakeoff", str(eval_file), "--models", f"{haiku.model_id},{llama.model_id}")
    assert "SANDBOX RUN" in capsys.readouterr().out


def test_bad_eval_file_is_refused_with_every_line_and_nothing_stored(eager, tmp_path, capsys):
    haiku, llama = claude_haiku_45(), llama_8b()
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "", "expected": "x", "scorer": "exact"}\n{"prompt": "p", "scorer": "nope"}\n')
    with pytest.raises(CommandError, match="bad row"):
        call_command("bakeoff", str(path), "--models", f"{haiku.model_id},{llama.model_id}")
    err = capsys.readouterr().err
    assert "bad.jsonl:1:" in err and "bad.jsonl:2:" in err
    assert EvalSet.objects.count() == 0


def test_unknown_model_is_refused(eager, eval_file):
    claude_haiku_45()
    with pytest.raises(CommandError, match="No catalog model"):
        call_command("bakeoff", str(eval_file), "--models", "anthropic.claude-haiku-4-5-20251001-v1:0,nope")
    assert EvalSet.objects.count() == 0


def test_a_model_past_end_of_life_is_refused_before_anything_is_stored(eager, eval_file):
    catalog_load()  # the published list (a transactional test starts from an empty catalog)
    with pytest.raises(CommandError, match="Claude 3 Haiku is past end of life on Bedrock"):
        call_command("bakeoff", str(eval_file), "--models",
                     "anthropic.claude-3-haiku-20240307-v1:0,meta.llama3-1-8b-instruct-v1:0")
    assert not EvalSet.objects.exists() and not BakeoffRun.objects.exists()


def test_json_and_text_report_name_a_legacy_model_s_end_of_life(eager, eval_file, capsys):
    import datetime as dt

    from bakeoff_jobs.catalog_models import CatalogModel

    catalog_load()
    CatalogModel.objects.filter(model_id="anthropic.claude-opus-4-1-20250805-v1:0").update(
        end_of_life_date=dt.date.today() + dt.timedelta(days=90))
    eol = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    call_command("bakeoff", str(eval_file), "--models",
                 "anthropic.claude-opus-4-1-20250805-v1:0,global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                 "--json", "--max-tokens", "32")
    opus, sonnet = json.loads(capsys.readouterr().out)["models"]
    assert opus["lifecycle"] == {"status": "legacy", "end_of_life_date": eol}
    assert sonnet["lifecycle"]["status"] == "active"
    assert sonnet["invoked_id"] == "global.anthropic.claude-sonnet-4-5-20250929-v1:0"

    from bakeoff_jobs.management.commands.bakeoff import render_text

    text = render_text(BakeoffRun.objects.get().report)
    assert f"Claude Opus 4.1 (us.anthropic.claude-opus-4-1-20250805-v1:0) is legacy on Bedrock: end of life {eol}." in text


def test_cli_prints_the_estimate_range_and_that_the_sandbox_bills_nothing(eager, eval_file, capsys):
    from bakeoff_jobs.management.commands.bakeoff import render_text

    haiku, llama = claude_haiku_45(), llama_8b()
    call_command("bakeoff", str(eval_file), "--models", f"{haiku.model_id},{llama.model_id}", "--json")
    out, err = capsys.readouterr()
    report = json.loads(out)
    typical, most = report["run"]["estimated_cost_usd"], report["run"]["estimated_cost_max_usd"]
    assert Decimal(most) > Decimal(typical) > 0
    assert f"typical, ${Decimal(most):.4f} at most" in err
    assert "the local sandbox bills $0" in err
    assert "it billed $0" in render_text(report)


@pytest.mark.parametrize("pilot", ["-1", "51"])
def test_a_pilot_out_of_range_is_refused_before_anything_is_stored(eager, eval_file, pilot):
    with pytest.raises(CommandError, match="--pilot takes 0 to 50 cases"):
        call_command("bakeoff", str(eval_file), "--models", "a,b", "--pilot", pilot)
    assert not EvalSet.objects.exists()


def test_pilot_measures_answer_length_before_launch(eager, eval_file, capsys):
    haiku, llama = claude_haiku_45(), llama_8b()
    call_command("bakeoff", str(eval_file), "--models", f"{haiku.model_id},{llama.model_id}", "--pilot", "2")
    err = capsys.readouterr().err
    assert "answer length measured on a pilot for" in err and llama.model_id in err
