"""Demo data for a newcomer: the reference pools, eight partner firms across regions and
specialties, a staff login and one login per firm, a self-hosted model on the local sandbox, and a
few sample intakes, evaluated at once. Re-running resets the demo partners and logins (with fresh
passwords) and adds nothing twice."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from intake.models import Intake
from matching.admin_scoping import admin_groups_ensure
from matching.intake_flow import intake_submit
from matching.models import Partner, PartnerMember
from matching.notifications import notifications_muted
from matching.pool_rules import pools_seed

DEMO_PARTNERS: list[dict] = [
    {"name": "Northwind Cloud Partners", "specialties": ["genai", "ml", "data"], "regions": ["us-east-1", "us-west-2"],
     "languages": ["en"], "capacity": 6, "commission_rate": Decimal("0.1000")},
    {"name": "Harbor AI Labs", "specialties": ["genai", "devops"], "regions": ["us-east-1", "ca-central-1"],
     "languages": ["en", "fr"], "capacity": 4, "commission_rate": Decimal("0.1200")},
    {"name": "Rheinwerk Data", "specialties": ["data", "devops", "genai"], "regions": ["eu-central-1", "eu-west-1"],
     "languages": ["de", "en"], "capacity": 5, "commission_rate": Decimal("0.1000")},
    {"name": "Lumiere ML Conseil", "specialties": ["genai", "ml"], "regions": ["eu-west-3", "eu-west-1"],
     "languages": ["fr", "en"], "capacity": 3, "commission_rate": Decimal("0.0900")},
    {"name": "Bangalore Bedrock Builders", "specialties": ["genai", "data"], "regions": ["ap-south-1", "ap-southeast-1"],
     "languages": ["en", "hi"], "capacity": 8, "commission_rate": Decimal("0.0800")},
    {"name": "Southern Cross Cloud", "specialties": ["devops", "data"], "regions": ["ap-southeast-2"],
     "languages": ["en"], "capacity": 4, "commission_rate": Decimal("0.1000")},
    {"name": "Paulista Nuvem", "specialties": ["genai", "devops"], "regions": ["sa-east-1", "us-east-1"],
     "languages": ["pt", "es", "en"], "capacity": 3, "commission_rate": Decimal("0.1100")},
    {"name": "Tokyo Inference Works", "specialties": ["genai", "ml", "devops"], "regions": ["ap-northeast-1"],
     "languages": ["ja", "en"], "capacity": 2, "commission_rate": Decimal("0.1000"), "is_vetted": False},
]

DEMO_INTAKES: list[dict] = [
    {"company_name": "Parsewell", "website": "https://parsewell.example", "country": "US",
     "founded_on": date(2024, 3, 1), "contact_name": "Ada Park", "contact_email": "ada@parsewell.example",
     "stage": "seed", "total_raised_usd": Decimal("2500000"), "funding_kind": "institutional_vc",
     "investor_name": "Foundry Ventures", "investor_is_activate_provider": True,
     "prior_activate_credits_usd": Decimal("1000"), "use_case": "classification_extraction",
     "monthly_requests": 400000, "avg_input_tokens": 1800, "avg_output_tokens": 300,
     "models_of_interest": "Claude Haiku, Llama 3.3 70B", "aws_account_id": "123456789012"},
    {"company_name": "Kleinlaut", "website": "https://kleinlaut.example", "country": "DE",
     "founded_on": date(2025, 6, 15), "contact_name": "Jonas Weber", "contact_email": "jonas@kleinlaut.example",
     "stage": "pre_seed", "total_raised_usd": Decimal("150000"), "funding_kind": "angels",
     "use_case": "chat_assistant", "monthly_requests": 50000, "avg_input_tokens": 900, "avg_output_tokens": 400,
     "data_residency_region": "eu-central-1", "aws_account_id": "210987654321"},
    {"company_name": "Solo Ledger", "website": "", "country": "NG", "founded_on": date(2023, 1, 10),
     "contact_name": "Ife Okafor", "contact_email": "ife@soloLedger.example", "stage": "idea",
     "funding_kind": "bootstrapped", "use_case": "other", "monthly_requests": 0, "avg_input_tokens": 0,
     "avg_output_tokens": 0},
]



def _reset_login(username: str, **flags) -> tuple[object, str]:
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.is_active = True
    for key, value in flags.items():
        setattr(user, key, value)
    user.save()
    return user, password


DEMO_SELFHOSTED_ID = "selfhosted.llama3-1-8b-demo"


def demo_selfhosted_ensure():
    """A staff-managed self-hosted entry served by the local sandbox's OpenAI-compatible side (only
    when the bake-off calls the sandbox), so a demo bake-off can put a self-hosted Llama beside
    Claude and Bedrock's Llama. One A10G at $1.006 an hour: g5.xlarge on demand in us-east-1, June
    2026 (https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/)."""
    from django.conf import settings

    from bakeoff_jobs.converse import is_local_endpoint
    from bakeoff_jobs.catalog_models import CatalogModel
    from bakeoff_jobs.model_data import SELF_HOSTED_DEMO_MODEL
    from bakeoff_jobs.selfhosted import selfhosted_entry_save

    endpoint = settings.BEDROCK_ENDPOINT_URL
    if not is_local_endpoint(endpoint):
        return None
    return selfhosted_entry_save(
        entry=CatalogModel.objects.filter(model_id=DEMO_SELFHOSTED_ID).first(), model_id=DEMO_SELFHOSTED_ID,
        name="Llama 3.1 8B Instruct (self-hosted demo)", family="llama", tier="small",
        base_url=f"{endpoint.rstrip('/')}/v1", served_model_name=SELF_HOSTED_DEMO_MODEL,
        gpu_type="NVIDIA A10G (g5.xlarge)", gpu_count=1, gpu_hour_price=Decimal("1.006"), hosting="ec2",
        max_concurrency=8, api_key="",
    )


def demo_load() -> list[tuple[str, str, str]]:
    """Load or reset the demo; returns (role, username, password) for every demo login."""
    logins = []
    with notifications_muted(), transaction.atomic():
        pools_seed()
        group, staff_group = admin_groups_ensure()
        for spec in DEMO_PARTNERS:
            fields = {"is_vetted": True, "is_active": True, "contact_name": "Partner desk",
                      "contact_email": f"team@{slugify(spec['name'])}.example",
                      **{k: v for k, v in spec.items() if k != "name"}}
            partner, _ = Partner.objects.update_or_create(name=spec["name"], defaults=fields)
            user, password = _reset_login(f"partner-{slugify(partner.name)}", is_staff=True, is_superuser=False,
                                          email=f"team@{slugify(partner.name)}.example")
            user.groups.add(group)
            PartnerMember.objects.update_or_create(user=user, defaults={"partner": partner})
            logins.append((f"partner ({partner.name})", user.username, password))
        staff, password = _reset_login("staff", is_staff=True, is_superuser=True, email="staff@cloudroute.local")
        staff.groups.add(staff_group)
        logins.insert(0, ("CloudRoute staff", staff.username, password))
        demo_selfhosted_ensure()
        for data in DEMO_INTAKES:
            exists = Intake.objects.filter(
                contact_email__iexact=data["contact_email"], company_name__iexact=data["company_name"]
            ).exists()
            if not exists:
                intake_submit(data=data, notify=False)
    return logins
