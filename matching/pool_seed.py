"""Starting terms and rules of the credit pools, from shared/reference/credit-programs.md checked against
AWS's own pages. Every rule and every pool's amounts cite the page they come from and when it was read;
where sources disagree the more conservative reading is seeded and the note says so. Staff own the
live data in the admin; pools_seed only creates pools that do not exist yet (a later correction of
these figures is a data migration that publishes a new rule version)."""
from datetime import date
from decimal import Decimal

AS_OF = date(2026, 12, 1)

# AWS's own pages.
AWS_CREDITS = "https://aws.amazon.com/startups/credits"
AWS_ACTIVATE = "https://aws.amazon.com/activate"
AWS_PROVIDERS = "https://aws.amazon.com/startups/providers"
AWS_PROGRAMS = "https://aws.amazon.com/startups/programs"
AWS_APPLY = "https://aws.amazon.com/startups/join?destination=/credits/apply"
# Marketing and partner pages: the only published description of some pools.
MARKETING_POC = "https://www.cloudroutehq.com/blog/bedrock-poc-credit-unlock"
MARKETING_STACK = "https://www.cloudroutehq.com/aws-credits/150k-aws-credits"
MARKETING_100K = "https://www.cloudroutehq.com/blog/how-to-get-100k-aws-credits"
MARKETING_BEDROCK = "https://www.cloudroutehq.com/aws-ai/amazon-bedrock-credits"

PRE_SERIES_B = ["idea", "pre_seed", "seed", "series_a"]
MARKETING_ONLY = "Marketing/partner page only (M): no AWS page describes this pool."


def cite(url: str, note: str = "") -> dict:
    return {"source_url": url, "source_as_of": AS_OF, "source_note": note}


ACTIVATE_ELIGIBILITY = cite(
    AWS_CREDITS, 'AWS: "Eligibility for AWS Activate: Pre-series B, founded in the last 10 years, AWS Account on '
    'Paid Tier Plan, and either new to Activate Credits or requesting more credits than previously received".'
)
ACCOUNT_ON_PAID_PLAN = cite(
    AWS_CREDITS, "AWS asks for an AWS account on a paid tier plan; the intake records only the account id, so the "
    "plan is for the partner or AWS to check.",
)

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
        "description": "Self-serve Activate tier for self-funded startups without an Activate Provider.",
        "filing_route": "self_serve",
        "route_note": "You apply yourself on AWS's Activate form; AWS starts the Founders tier at $1,000.",
        "apply_url": AWS_APPLY,
        "amount_min_usd": Decimal("1000"),
        "amount_max_usd": Decimal("1000"),
        "typical_amount_usd": Decimal("1000"),
        **cite(
            AWS_ACTIVATE,
            "Sources disagree: aws.amazon.com/activate gives $1,000; aws.amazon.com/startups/credits says 'start with "
            "1,000 USD; select participants may qualify for up to 5,000 USD'; some guides cite $5,000, and 'up to "
            "$25,000 when a partner files it' is a marketing claim only. Seeded: $1,000.",
        ),
        "position": 10,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["activate-founders"],
        "rules": [
            ("stage_in", {"stages": PRE_SERIES_B}, ACTIVATE_ELIGIBILITY),
            ("funding_kind_in", {"kinds": ["bootstrapped"]}, cite(
                AWS_CREDITS,
                "Sources disagree: aws.amazon.com/startups/credits says 'Activate Founders: self-funded; apply "
                "directly if you're bootstrapped or self-funded'; older guides to aws.amazon.com/activate also take "
                "early-stage startups with no institutional round (angels). Seeded: self-funded only.",
            )),
            ("max_company_age_years", {"years": 10}, ACTIVATE_ELIGIBILITY),
            ("requires_website", {}, cite(AWS_ACTIVATE, "AWS asks for a company website or public profile.")),
            ("requires_aws_account", {}, ACCOUNT_ON_PAID_PLAN),
            ("prior_credits_below_usd", {"usd": "1000"}, ACTIVATE_ELIGIBILITY),
        ],
    },
    {
        "slug": "activate-portfolio",
        "name": "AWS Activate Portfolio",
        "description": "Activate tier for pre-Series B startups affiliated with an Activate Provider (VC, accelerator, "
                       "incubator with an Org ID).",
        "filing_route": "partner_ace",
        "route_note": "Filed by your Activate Provider with its Organizational ID, or by your matched partner through ACE.",
        "apply_url": "",
        "amount_min_usd": Decimal("0"),
        "amount_max_usd": Decimal("100000"),
        "typical_amount_usd": Decimal("25000"),
        **cite(
            AWS_ACTIVATE,
            "Sources disagree: aws.amazon.com/activate says up to $100,000, aws.amazon.com/startups/credits says up "
            "to 200,000 USD. Seeded: up to $100,000. AWS publishes no typical award; the estimate is the low end of "
            "the $25,000-$100,000 range partner guides report (M).",
        ),
        "position": 20,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["activate-portfolio"],
        "rules": [
            ("stage_in", {"stages": PRE_SERIES_B}, cite(AWS_CREDITS, 'AWS: "Activate Portfolio — Pre-Series B".')),
            ("requires_activate_provider", {}, cite(
                AWS_PROVIDERS, "AWS: Portfolio needs the Organization ID of an Activate Provider (accelerator, angel "
                "investor, venture capital firm) the startup is affiliated with.",
            )),
            ("max_company_age_years", {"years": 10}, ACTIVATE_ELIGIBILITY),
            ("requires_website", {}, cite(AWS_ACTIVATE, "AWS asks for a company website or public profile.")),
            ("requires_aws_account", {}, ACCOUNT_ON_PAID_PLAN),
            ("prior_credits_below_usd", {"usd": "100000"}, ACTIVATE_ELIGIBILITY),
            ("min_monthly_requests", {"requests": 1}, cite(
                MARKETING_100K, "Marketing/partner page (M): a partner-filed application needs a believable AWS "
                "workload and spend projection; checked here only as a stated workload.",
            )),
        ],
    },
    {
        "slug": "bedrock-poc",
        "name": "Bedrock generative-AI proof of concept",
        "description": "Credits earmarked for Amazon Bedrock to prove a generative-AI use case in about 60 days; stacks "
                       "with Portfolio when the use cases do not overlap.",
        "filing_route": "partner_ace",
        "route_note": "Only a partner can file it, through ACE, with a POC plan: model selection, evaluation method and "
                      "projected budget.",
        "apply_url": "",
        "amount_min_usd": Decimal("10000"),
        "amount_max_usd": Decimal("50000"),
        "typical_amount_usd": Decimal("25000"),
        **cite(MARKETING_POC, MARKETING_ONLY + " $10,000-$50,000, about $25,000 typical for seed/Series A."),
        "position": 30,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["bedrock-poc"],
        "rules": [
            ("requires_genai_workload", {}, cite(
                MARKETING_POC, MARKETING_ONLY + " A defined generative-AI use case on Amazon Bedrock. No published "
                "description of this pool sets a stage condition, so none is checked.",
            )),
            ("min_monthly_requests", {"requests": 1}, cite(
                MARKETING_POC, MARKETING_ONLY + " The POC plan needs a projected budget, so a stated workload. No "
                "published minimum volume.",
            )),
        ],
    },
    {
        "slug": "build-for-startups",
        "name": "Build for Startups",
        "description": "Credits for a discrete new project or workload, separate from what Portfolio funds.",
        "filing_route": "partner_ace",
        "route_note": "Your matched partner files it through ACE for a new workload separate from Portfolio.",
        "apply_url": "",
        "amount_min_usd": Decimal("25000"),
        "amount_max_usd": Decimal("25000"),
        "typical_amount_usd": Decimal("25000"),
        **cite(MARKETING_STACK, MARKETING_ONLY + " About $25,000."),
        "position": 40,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["build-for-startups"],
        "rules": [
            ("min_monthly_requests", {"requests": 1}, cite(
                MARKETING_STACK, MARKETING_ONLY + " A discrete new project or workload; no stage condition is "
                "published.",
            )),
        ],
    },
    {
        "slug": "genai-accelerator",
        "name": "AWS Generative AI Accelerator",
        "description": "Competitive annual cohort for AI-first startups building generative-AI products or foundation "
                       "models.",
        "filing_route": "competitive",
        "route_note": "You apply in a fixed application window; a small cohort is chosen.",
        "apply_url": AWS_PROGRAMS,
        "amount_min_usd": Decimal("0"),
        "amount_max_usd": Decimal("1000000"),
        "typical_amount_usd": Decimal("0"),
        **cite(
            AWS_PROGRAMS,
            "Awards up to $1,000,000 (the product brief and partner guides (M)); AWS lists its accelerators as "
            "time-bound, cohort-based programs for early-stage startups. 'Awards from about $200,000' is a "
            "marketing claim only (M) and is not seeded. Competitive: never counted as expected credits.",
        ),
        "position": 50,
        "credit_validity_months": CREDIT_VALIDITY_MONTHS["genai-accelerator"],
        "rules": [
            ("requires_genai_workload", {}, cite(
                MARKETING_BEDROCK, "Partner guide (M): for AI-first startups building generative-AI products or "
                "foundation models.",
            )),
            ("stage_in", {"stages": ["seed", "series_a"]}, cite(
                AWS_PROGRAMS, "Sources differ: AWS says early-stage; partner guides give seed to Series A as the "
                "usual range (M). Seeded: the narrower seed to Series A.",
            )),
        ],
    },
]
