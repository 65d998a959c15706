"""Staff pages at 1x and 10x data: every admin changelist, the bake-off report (admin page and
API) and the pipeline dashboard. Query counts must be equal at both sizes (no query per row);
times are the median of 5 requests through Django's test client (no network).

    python bench/pages.py [--unit 10] [--repeat 5]

One "x" is `--unit` intakes (through intake_submit: verdicts, engagement, match), each matched one
accepted with its ACE draft and credit applications, and one finished bake-off run (10 cases x 2
models through the local sandbox). Uses a temporary SQLite database unless DATABASE_URL is set
(a PostgreSQL database is emptied first). The last line reads: pages=<n> equal_queries=<yes|no>
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHANGELISTS = [
    "intake/intake", "matching/engagement", "matching/partner", "matching/creditpool", "matching/rulesetversion",
    "matching/poolverdict", "filing/aceopportunity", "filing/creditapplication", "filing/commission",
    "bakeoff_jobs/catalogmodel", "bakeoff_jobs/evalset", "bakeoff_jobs/bakeoffrun", "bakeoff_jobs/bakeoffresult",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", type=int, default=10, help="intakes (and 1 run) per 1x of data")
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cloudroute-bench-pages-"))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def grow(scale_to: int, have: int, unit: int, sandbox_url: str, staff) -> None:
    """Adds data until there are `scale_to` units."""
    from bakeoff_jobs import services as bakeoff
    from bakeoff_jobs.catalog_models import CatalogModel
    from filing.engagement_filings import engagement_filings_prepare
    from matching.intake_flow import intake_submit
    from portal.demo import DEMO_INTAKES
    from matching.models import Engagement
    from matching.services import engagement_accept

    models = ["anthropic.claude-haiku-4-5-20251001-v1:0", "meta.llama3-1-8b-instruct-v1:0"]
    CatalogModel.objects.filter(model_id__in=models).update(requests_per_minute=None, tokens_per_minute=None)
    for u in range(have, scale_to):
        for i in range(unit):
            data = dict(DEMO_INTAKES[i % len(DEMO_INTAKES)])
            data["company_name"] = f"{data['company_name']} {u}-{i}"
            data["contact_email"] = f"founder{u}-{i}@bench.example"
            intake, _ = intake_submit(data=data, notify=False)
            engagement = Engagement.objects.get(intake=intake)
            if engagement.status == "proposed":
                engagement_accept(engagement=engagement, by=staff)
                engagement_filings_prepare(engagement=engagement, by=staff)
        lines = "\n".join(f'{{"prompt": "Case {i}: say Paris", "expected": "Paris", "scorer": "contains"}}'
                          for i in range(10))
        eval_set = bakeoff.evalset_upload(name=f"bench {u}", data=lines.encode(), filename="bench.jsonl")
        bakeoff.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox_url)


def measure(client, url: str, repeat: int) -> tuple[int, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches (templates, content types)
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
    return len(queries.captured_queries), statistics.median(times), response.status_code


def bench(args: argparse.Namespace, tmp: Path) -> int:
    os.environ["CLOUDROUTE_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudroute.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"  # bake-off runs execute in this process
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bakeoff_jobs.models import BakeoffRun
    from bedrock_sandbox.config import SandboxConfig, ScriptLine
    from bedrock_sandbox.server import start_in_thread
    from portal.demo import demo_load

    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor == "postgresql":  # a database of yours: start from this benchmark's rows
        call_command("flush", interactive=False, verbosity=0)
        call_command("load_catalog", verbosity=0)
    demo_load()
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="staff")
    sandbox = start_in_thread(SandboxConfig(latency_ms=0, script=[ScriptLine(prompt_contains="say Paris",
                                                                            answer="Paris")]))
    client = Client()
    client.force_login(staff)
    rows: dict[str, dict[int, tuple[int, float, int]]] = {}
    have = 0
    try:
        for scale in (1, 10):
            grow(scale, have, args.unit, sandbox.url, staff)
            have = scale
            run = BakeoffRun.objects.filter(status="finished").order_by("-id").first()
            urls = [f"/admin/{name}/" for name in CHANGELISTS] + [
                f"/admin/bakeoff_jobs/bakeoffrun/{run.pk}/change/", f"/api/bakeoffs/{run.pk}/report/",
                "/staff/pipeline/",
            ]
            for url in urls:
                key = url.replace(f"/{run.pk}/", "/<run>/")
                rows.setdefault(key, {})[scale] = measure(client, url, args.repeat)
    finally:
        sandbox.stop()

    print(f"{'page':<48} {'q@1x':>5} {'q@10x':>6} {'ms@1x':>7} {'ms@10x':>7}")
    equal = True
    for key, by_scale in rows.items():
        (q1, t1, s1), (q10, t10, s10) = by_scale[1], by_scale[10]
        flag = "" if q1 == q10 and s1 == s10 == 200 else "  <-- differs" if q1 != q10 else f"  <-- HTTP {s1}/{s10}"
        equal &= q1 == q10
        print(f"{key:<48} {q1:>5} {q10:>6} {t1:>7.1f} {t10:>7.1f}{flag}")
    print(f"db {connection.vendor}; 1x = {args.unit} intakes + 1 run; 10x = {10 * args.unit} intakes + 10 runs")
    print(f"pages={len(rows)} equal_queries={'yes' if equal else 'no'}")
    return 0 if equal else 2


if __name__ == "__main__":
    sys.exit(main())
