"""factory-boy factories for the suite; defaults describe a typical seed-stage GenAI startup."""
from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from intake.models import Intake
from matching.models import CreditPool, Partner, PartnerMember, PoolRule


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class IntakeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intake

    company_name = factory.Sequence(lambda n: f"Startup {n}")
    website = "https://startup.example"
    country = "US"
    founded_on = date(2023, 5, 1)
    contact_name = "Ada Founder"
    contact_email = factory.Sequence(lambda n: f"founder{n}@startup.example")
    stage = "seed"
    total_raised_usd = Decimal("500000")
    funding_kind = "angels"
    investor_name = "Angel Syndicate"
    investor_is_activate_provider = True
    prior_activate_credits_usd = Decimal("0")
    use_case = "chat_assistant"
    monthly_requests = 5000
    avg_input_tokens = 800
    avg_output_tokens = 200
    models_of_interest = "Claude Sonnet, Llama 3.3 70B"
    needs_fine_tuning = False
    needs_open_weights = False
    data_residency_region = ""
    aws_account_id = "123456789012"
    # Most tests build the engagement themselves: such an intake counts as evaluated.
    evaluated_at = factory.LazyFunction(timezone.now)


def intake_data(**overrides) -> dict:
    """A valid intake as the plain dict intake_submit takes."""
    intake = IntakeFactory.build(**overrides)
    # What a founder types: not the id, token, timestamps or markers the services set.
    fields = [f.name for f in Intake._meta.concrete_fields if f.editable and f.name != "id"]
    return {name: getattr(intake, name) for name in fields}


def open_engagement(**intake_overrides):
    """An intake saved with its verdicts and its engagement opened (and matched if a partner fits)."""
    from matching import pool_rules, services

    intake = IntakeFactory(**intake_overrides)
    pool_rules.intake_verdicts_record(intake=intake)
    return services.engagement_open(intake=intake)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n:03d}")
    is_vetted = True
    is_active = True
    specialties = factory.LazyFunction(lambda: ["genai"])
    regions = factory.LazyFunction(lambda: ["us-east-1"])
    languages = factory.LazyFunction(lambda: ["en"])
    capacity = 3
    commission_rate = Decimal("0.1000")


class PartnerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerMember

    user = factory.SubFactory(UserFactory, is_staff=True)
    partner = factory.SubFactory(PartnerFactory)


class CreditPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPool

    slug = factory.Sequence(lambda n: f"pool-{n}")
    name = factory.Sequence(lambda n: f"Pool {n}")
    filing_route = "partner_ace"
    amount_min_usd = Decimal("0")
    amount_max_usd = Decimal("10000")
    typical_amount_usd = Decimal("5000")


class PoolRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PoolRule

    pool = factory.SubFactory(CreditPoolFactory)
    kind = "requires_website"
    params = factory.LazyFunction(dict)


class CloudRouteStaffFactory(UserFactory):
    """CloudRoute staff by grant: an admin login in the "CloudRoute staff" group, not a superuser."""

    is_staff = True

    @factory.post_generation
    def staff_group(self, create, extracted, **kwargs):
        if create:
            from matching.admin_scoping import admin_groups_ensure

            self.groups.add(admin_groups_ensure()[1])


# Logins that hold no role (matching.roles): each must read nothing and change nothing.
ROLELESS = ("is_staff_only", "removed_member", "removed_member_reactivated", "deleted_firm_member",
            "deactivated_firm_member", "unvetted_firm_member")
# Those deactivated by the removal itself: their sessions and tokens no longer authenticate.
DEACTIVATED_ROLELESS = ("removed_member", "deleted_firm_member")


def roleless_logins(group=None) -> dict:
    """One login of each ROLELESS kind, each an admin login (is_staff) and, when given, in `group`
    (e.g. "Partner staff", whose model permissions a removed member keeps)."""

    def login(name, partner=None):
        user = UserFactory(username=name, is_staff=True)
        if group is not None:
            user.groups.add(group)
        if partner is not None:
            PartnerMember.objects.create(user=user, partner=partner)
        return user

    logins = {"is_staff_only": login("is_staff_only")}
    firm = PartnerFactory(name="Removed Member Partners")
    for name in ("removed_member", "removed_member_reactivated"):
        logins[name] = login(name, firm)
        PartnerMember.objects.filter(user=logins[name]).delete()
    type(logins["removed_member_reactivated"]).objects.filter(username="removed_member_reactivated").update(
        is_active=True)  # an admin turned the login back on: it still holds no role
    gone = PartnerFactory(name="Deleted Partners")
    logins["deleted_firm_member"] = login("deleted_firm_member", gone)
    gone.delete()
    logins["deactivated_firm_member"] = login("deactivated_firm_member", PartnerFactory(
        name="Deactivated Partners", is_active=False))
    logins["unvetted_firm_member"] = login("unvetted_firm_member", PartnerFactory(
        name="Unvetted Partners", is_vetted=False))
    for user in logins.values():
        user.refresh_from_db()
    return logins
