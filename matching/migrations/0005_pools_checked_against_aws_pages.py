"""The reference pools, checked against AWS's own pages (issue 12): Activate is pre-Series B, the Bedrock
POC and Build for Startups set no stage condition, marketing-only amounts are dropped or flagged, and
every rule cites its source. Published as a new rule version per pool; verdicts already given keep the
version they were made with. A pool whose terms or rules staff have edited keeps the edits: only the
fields and rules still as first seeded are corrected."""
from decimal import Decimal

from django.db import migrations

ALL_BUT_IDEA = ["pre_seed", "seed", "series_a", "series_b_plus"]

# The first seed, as it was: what "not edited by staff" means.
FIRST_SEED = {
    "activate-founders": {
        "route_note": "You can claim $1,000 yourself on the AWS Activate page; filed by a partner through ACE it can "
                      "reach up to $25,000.",
        "description": "Self-serve Activate tier for self-funded or angel-funded startups without an Activate Provider.",
        "amount_min_usd": Decimal("1000"), "amount_max_usd": Decimal("25000"), "typical_amount_usd": Decimal("1000"),
        "rules": [
            ("funding_kind_in", {"kinds": ["bootstrapped", "angels"]}),
            ("max_company_age_years", {"years": 10}),
            ("requires_website", {}),
            ("requires_aws_account", {}),
            ("prior_credits_below_usd", {"usd": "1000"}),
        ],
    },
    "activate-portfolio": {
        "description": "Activate tier for startups affiliated with an Activate Provider (VC, accelerator, incubator "
                       "with an Org ID).",
        "amount_min_usd": Decimal("25000"), "amount_max_usd": Decimal("100000"),
        "typical_amount_usd": Decimal("50000"),
        "rules": [
            ("requires_activate_provider", {}),
            ("max_company_age_years", {"years": 10}),
            ("requires_website", {}),
            ("prior_credits_below_usd", {"usd": "100000"}),
            ("min_monthly_requests", {"requests": 1}),
        ],
    },
    "bedrock-poc": {
        "description": "Credits earmarked for Amazon Bedrock to prove a generative-AI use case in about 60 days; "
                       "stacks with Portfolio.",
        "rules": [
            ("requires_genai_workload", {}),
            ("stage_in", {"stages": ALL_BUT_IDEA}),
            ("requires_aws_account", {}),
            ("min_monthly_requests", {"requests": 1000}),
        ],
    },
    "build-for-startups": {
        "rules": [
            ("stage_in", {"stages": ["pre_seed", "seed", "series_a"]}),
            ("requires_aws_account", {}),
            ("min_monthly_requests", {"requests": 1}),
        ],
    },
    "genai-accelerator": {
        "route_note": "You apply in a fixed application window; a small cohort is chosen and awards start around "
                      "$200,000.",
        "amount_min_usd": Decimal("200000"), "typical_amount_usd": Decimal("200000"),
        "rules": [
            ("requires_genai_workload", {}),
            ("stage_in", {"stages": ["seed", "series_a"]}),
            ("requires_website", {}),
        ],
    },
}

TERMS = ["description", "route_note", "amount_min_usd", "amount_max_usd", "typical_amount_usd"]
NEW_FIELDS = ["apply_url", "source_url", "source_as_of", "source_note"]
RULE_SOURCE = ["source_url", "source_as_of", "source_note"]


def correct_pools(apps, schema_editor):
    from matching.eligibility import build_snapshot, snapshot_digest
    from matching.pool_seed import POOLS

    CreditPool = apps.get_model("matching", "CreditPool")
    PoolRule = apps.get_model("matching", "PoolRule")
    RuleSetVersion = apps.get_model("matching", "RuleSetVersion")
    for spec in POOLS:
        pool = CreditPool.objects.filter(slug=spec["slug"]).first()
        first = FIRST_SEED.get(spec["slug"])
        if pool is None or first is None:
            continue
        # The source note speaks of the seeded figures: it is cited only where staff kept them all.
        terms_as_seeded = all(getattr(pool, name) == first[name] for name in TERMS if name in first)
        for name in TERMS:
            if name in first and getattr(pool, name) == first[name]:
                setattr(pool, name, spec[name])
        for name in NEW_FIELDS:
            if not getattr(pool, name) and (name == "apply_url" or terms_as_seeded):
                setattr(pool, name, spec[name])
        pool.save()
        live = list(PoolRule.objects.filter(pool=pool).order_by("position", "id"))
        if [(r.kind, r.params) for r in live] == first["rules"]:
            PoolRule.objects.filter(pool=pool).delete()
            PoolRule.objects.bulk_create(
                PoolRule(pool=pool, kind=kind, params=params, position=i, **{k: source[k] for k in RULE_SOURCE})
                for i, (kind, params, source) in enumerate(spec["rules"], start=1)
            )
        else:  # edited by staff: keep the rules, cite the ones the checked seed also has
            for rule in live:
                source = next((s for k, p, s in spec["rules"] if (k, p) == (rule.kind, rule.params)), None)
                if source and not rule.source_url:
                    for k in RULE_SOURCE:
                        setattr(rule, k, source[k])
                    rule.save()
        snapshot = build_snapshot(pool, PoolRule.objects.filter(pool=pool).order_by("position", "id"))
        digest = snapshot_digest(snapshot)
        latest = RuleSetVersion.objects.filter(pool=pool).order_by("-version").first()
        if latest is None or latest.digest != digest:
            RuleSetVersion.objects.create(
                pool=pool, version=(latest.version + 1) if latest else 1, snapshot=snapshot, digest=digest
            )


class Migration(migrations.Migration):
    dependencies = [("matching", "0004_pool_sources_and_apply_links")]

    operations = [migrations.RunPython(correct_pools, migrations.RunPython.noop)]
