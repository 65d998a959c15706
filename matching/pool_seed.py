"""Starting terms and rules of the credit pools, from shared/reference/credit-programs.md. Staff own
the live data in the admin; this only creates pools that do not exist yet."""
from decimal import Decimal

ALL_BUT_IDEA = ["pre_seed", "seed", "series_a", "series_b_plus"]

# How long granted credits stay valid (credit_validity_months), as of 2026-12-01. AWS says Activate
# credits usually expire within 1-2 years depending on the package, and shows each expiry date in
# the Billing console (AWS Activate credit guide, quoted by cloudcredits.co/what-happens-when-aws-
# credits-expire); the entry tier lasts one year and the larger packages two (nops.io/what-are-aws-
# credits); Activate tiers carry "12-month or 24-month validity depending on tier" (cloudroutehq.com/
# aws-credits/aws-promotional-credits-vs-activate). No source gives a validity for the POC, Build for
# Startups or Accelerator credits: they take the conservative end of AWS's range, 12 months.
CREDIT_VALIDITY_MONTHS = {
    "activate-founders": 12,
    "activate-portfolio": 24,
    "bedrock-poc": 12,
    "build-for-startups": 12,
    "genai-accelerator": 12,
}

POOLS: list[dict] = [
    {
        "slug": "activate-founders",
        "name": "AWS Activate Founders",
        "description": "Self-serve Activate tier for self-funded or angel-funded startups without an Activate Provider.",
        "filing_route": "self_serve",
        "route_note": "You can claim $1,000 yourself on the AWS Activate page; filed by a partner through ACE it can reach up to $25,000.",
        "amount_min_usd": Decimal("1000"),
        "amount_max_usd": Decimal("25000"),
        "typical_amount_usd": Decimal("1000"),
        "position": 10,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["activate-founders"],
        "rules": [
            ("funding_kind_in", {"kinds": ["bootstrapped", "angels"]}),
            ("max_company_age_years", {"years": 10}),
            ("requires_website", {}),
            ("requires_aws_account", {}),
            ("prior_credits_below_usd", {"usd": "1000"}),
        ],
    },
    {
        "slug": "activate-portfolio",
        "name": "AWS Activate Portfolio",
        "description": "Activate tier for startups affiliated with an Activate Provider (VC, accelerator, incubator with an Org ID).",
        "filing_route": "partner_ace",
        "route_note": "Filed by your Activate Provider with its Organizational ID, or by your matched partner through ACE.",
        "amount_min_usd": Decimal("25000"),
        "amount_max_usd": Decimal("100000"),
        "typical_amount_usd": Decimal("50000"),
        "position": 20,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["activate-portfolio"],
        "rules": [
            ("requires_activate_provider", {}),
            ("max_company_age_years", {"years": 10}),
            ("requires_website", {}),
            ("prior_credits_below_usd", {"usd": "100000"}),
            ("min_monthly_requests", {"requests": 1}),
        ],
    },
    {
        "slug": "bedrock-poc",
        "name": "Bedrock generative-AI proof of concept",
        "description": "Credits earmarked for Amazon Bedrock to prove a generative-AI use case in about 60 days; stacks with Portfolio.",
        "filing_route": "partner_ace",
        "route_note": "Only a partner can file it, through ACE, with a POC plan: model selection, evaluation method and projected budget.",
        "amount_min_usd": Decimal("10000"),
        "amount_max_usd": Decimal("50000"),
        "typical_amount_usd": Decimal("25000"),
        "position": 30,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["bedrock-poc"],
        "rules": [
            ("requires_genai_workload", {}),
            ("stage_in", {"stages": ALL_BUT_IDEA}),
            ("requires_aws_account", {}),
            ("min_monthly_requests", {"requests": 1000}),
        ],
    },
    {
        "slug": "build-for-startups",
        "name": "Build for Startups",
        "description": "Credits for a discrete new project or workload, separate from what Portfolio funds.",
        "filing_route": "partner_ace",
        "route_note": "Your matched partner files it through ACE for a new workload separate from Portfolio.",
        "amount_min_usd": Decimal("25000"),
        "amount_max_usd": Decimal("25000"),
        "typical_amount_usd": Decimal("25000"),
        "position": 40,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["build-for-startups"],
        "rules": [
            ("stage_in", {"stages": ["pre_seed", "seed", "series_a"]}),
            ("requires_aws_account", {}),
            ("min_monthly_requests", {"requests": 1}),
        ],
    },
    {
        "slug": "genai-accelerator",
        "name": "AWS Generative AI Accelerator",
        "description": "Competitive annual cohort for AI-first startups building generative-AI products or foundation models.",
        "filing_route": "competitive",
        "route_note": "You apply in a fixed application window; a small cohort is chosen and awards start around $200,000.",
        "amount_min_usd": Decimal("200000"),
        "amount_max_usd": Decimal("1000000"),
        "typical_amount_usd": Decimal("200000"),
        "position": 50,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["genai-accelerator"],
        "rules": [
            ("requires_genai_workload", {}),
            ("stage_in", {"stages": ["seed", "series_a"]}),
            ("requires_website", {}),
        ],
    },
]
