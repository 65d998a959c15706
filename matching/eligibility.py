"""Pure eligibility evaluator: an intake-like object and a frozen rule-set snapshot in, a verdict
with one plain sentence per rule out. No database access, so the preview command and the
intake service share it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Protocol

from intake.models import FundingKind, Stage, UseCase
from matching.models.pools import FilingRoute, RuleKind


class RuleParamsError(ValueError):
    """A rule's parameters do not fit its kind."""


class Applicant(Protocol):
    stage: str
    funding_kind: str
    investor_name: str
    investor_is_activate_provider: bool
    founded_on: date
    prior_activate_credits_usd: Decimal
    use_case: str
    website: str
    aws_account_id: str
    total_raised_usd: Decimal
    monthly_requests: int


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    text: str
    source: dict[str, str] = field(default_factory=dict)  # {"url", "as_of", "note"}; empty on old versions

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "text": self.text, "source": self.source}


class VerdictWording:
    """What a verdict (an outcome being previewed, or a stored PoolVerdict) tells the founder, from its
    route and eligibility: the status page, the emails, the API and the preview all read these."""

    route: str
    is_eligible: bool

    @property
    def headline(self) -> str:
        return verdict_headline(self.route, self.is_eligible)

    @property
    def next_step(self) -> str:
        return verdict_next_step(self.route, self.is_eligible, failed_rules=self._failed_rules())

    def _failed_rules(self) -> list[str]:
        """The kinds of the rules this verdict failed (stored verdicts keep their reasons as dicts)."""
        return [r["rule"] if isinstance(r, dict) else r.rule
                for r in self.reasons if not (r["passed"] if isinstance(r, dict) else r.passed)]

    @property
    def counts_as_expected(self) -> bool:
        return counts_as_expected(self.route, self.is_eligible)


@dataclass(frozen=True)
class PoolOutcome(VerdictWording):
    pool_slug: str
    pool_name: str
    is_eligible: bool
    estimated_amount_usd: Decimal
    route: str
    route_reason: str
    reasons: list[RuleResult] = field(default_factory=list)
    apply_url: str = ""
    source: dict[str, str] = field(default_factory=dict)  # where the pool's route and amounts come from

    def as_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool_slug,
            "pool_name": self.pool_name,
            "eligible": self.is_eligible,
            "estimated_amount_usd": str(self.estimated_amount_usd),
            "route": self.route,
            "route_reason": self.route_reason,
            "reasons": [r.as_dict() for r in self.reasons],
            "headline": self.headline,
            "next_step": self.next_step,
            "apply_url": self.apply_url,
            "counts_as_expected": self.counts_as_expected,
            "source": self.source,
        }


# --- snapshots ------------------------------------------------------------------------------------

def build_snapshot(pool: Any, rules: Iterable[Any]) -> dict[str, Any]:
    """Freeze a pool's terms and rules, each with the source it cites, into plain JSON-able data
    (what a RuleSetVersion stores)."""
    return {
        "pool": {
            "slug": pool.slug,
            "name": pool.name,
            "filing_route": pool.filing_route,
            "route_note": pool.route_note,
            "amount_min_usd": _cents(pool.amount_min_usd),
            "amount_max_usd": _cents(pool.amount_max_usd),
            "typical_amount_usd": _cents(pool.typical_amount_usd),
            "apply_url": getattr(pool, "apply_url", "") or "",
            "source": source_of(pool),
        },
        "rules": [{"kind": r.kind, "params": r.params or {}, "source": source_of(r)} for r in rules],
    }


def source_of(obj: Any) -> dict[str, str]:
    """The citation an object carries (a pool's terms or one rule): URL, the date it was read, a note."""
    as_of = getattr(obj, "source_as_of", None)
    return {
        "url": getattr(obj, "source_url", "") or "",
        "as_of": as_of.isoformat() if hasattr(as_of, "isoformat") else str(as_of or ""),
        "note": getattr(obj, "source_note", "") or "",
    }


def _cents(amount: Decimal | int | str) -> str:
    # Normalised so an amount read back from the database digests the same as the one saved.
    return str(Decimal(amount).quantize(Decimal("0.01")))


def snapshot_digest(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()


# --- wording helpers ------------------------------------------------------------------------------

def usd(amount: Decimal | int | str) -> str:
    value = Decimal(amount)
    return f"${value:,.0f}" if value == value.to_integral_value() else f"${value:,.2f}"


def _or_list(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _decimal_param(params: dict, key: str) -> Decimal:
    try:
        value = Decimal(str(params[key]))
    except (KeyError, InvalidOperation) as exc:
        raise RuleParamsError(f'needs "{key}" as an amount, e.g. {{"{key}": "1000"}}') from exc
    if value < 0:
        raise RuleParamsError(f'"{key}" cannot be negative')
    return value


def _int_param(params: dict, key: str) -> int:
    value = params.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RuleParamsError(f'needs "{key}" as a whole number, e.g. {{"{key}": 10}}')
    return value


def _choice_list_param(params: dict, key: str, choices: type) -> list[str]:
    values = params.get(key)
    valid = set(choices.values)
    if not isinstance(values, list) or not values or not all(v in valid for v in values):
        raise RuleParamsError(f'needs "{key}" as a non-empty list drawn from {sorted(valid)}')
    return values


def years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a non-leap year
        return today.replace(year=today.year - years, day=28)


# --- the rules ------------------------------------------------------------------------------------
# Each rule returns (passed, sentence). Sentences name the pool and say what was given.

def _stage_in(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    stages = _choice_list_param(params, "stages", Stage)
    wanted = _or_list([Stage(s).label for s in stages])
    given = Stage(a.stage).label if a.stage in Stage.values else (a.stage or "none given")
    return a.stage in stages, f"{pool} takes {wanted} companies: you are {given}."


FUNDING_PHRASES = {
    FundingKind.BOOTSTRAPPED: "bootstrapped",
    FundingKind.ANGELS: "angel-funded",
    FundingKind.INSTITUTIONAL_VC: "VC-funded",
    FundingKind.ACCELERATOR: "accelerator-backed",
}


def _funding_kind_in(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    kinds = _choice_list_param(params, "kinds", FundingKind)
    wanted = _or_list([FUNDING_PHRASES[k] for k in kinds])
    given = FUNDING_PHRASES.get(a.funding_kind, "not given")
    return a.funding_kind in kinds, f"{pool} is for {wanted} startups: yours is {given}."


def _requires_activate_provider(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    lead = f"{pool} needs an Activate Provider affiliation"
    if a.investor_is_activate_provider:
        who = a.investor_name or "your investor"
        return True, f"{lead}: {who} is one."
    if a.investor_name:
        return False, f"{lead}: {a.investor_name} is not marked as an Activate Provider."
    return False, f"{lead}: none given."


def _max_company_age_years(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    years = _int_param(params, "years")
    earliest = years_ago(today, years)
    passed = a.founded_on >= earliest
    return passed, (
        f"{pool} needs a company founded within the last {years} years (on or after {earliest:%Y-%m-%d}): "
        f"founded {a.founded_on:%Y-%m-%d}."
    )


def _prior_credits_below_usd(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    limit = _decimal_param(params, "usd")
    prior = Decimal(a.prior_activate_credits_usd or 0)
    return prior < limit, f"{pool} needs earlier Activate credits below {usd(limit)}: {usd(prior)} received."


def _requires_genai_workload(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    label = UseCase(a.use_case).label if a.use_case in UseCase.values else "none given"
    passed = a.use_case in UseCase.values and a.use_case != UseCase.OTHER
    return passed, f"{pool} needs a generative-AI workload: yours is {label}."


def _requires_website(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    return bool(a.website), f"{pool} needs a company website: {a.website or 'none given'}."


def _requires_aws_account(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    return bool(a.aws_account_id), f"{pool} needs an AWS account: {a.aws_account_id or 'none given'}."


def _min_total_raised_usd(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    limit = _decimal_param(params, "usd")
    raised = Decimal(a.total_raised_usd or 0)
    return raised >= limit, f"{pool} needs at least {usd(limit)} raised: {usd(raised)} raised."


def _max_total_raised_usd(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    limit = _decimal_param(params, "usd")
    raised = Decimal(a.total_raised_usd or 0)
    return raised <= limit, f"{pool} is for companies that raised at most {usd(limit)}: {usd(raised)} raised."


def _min_monthly_requests(pool: str, params: dict, a: Applicant, today: date) -> tuple[bool, str]:
    least = _int_param(params, "requests")
    given = a.monthly_requests or 0
    return given >= least, (
        f"{pool} needs a projected workload of at least {least:,} request{'s' if least != 1 else ''} a month: "
        f"{given:,} given."
    )


RULES: dict[str, Callable[[str, dict, Applicant, date], tuple[bool, str]]] = {
    RuleKind.STAGE_IN: _stage_in,
    RuleKind.FUNDING_KIND_IN: _funding_kind_in,
    RuleKind.REQUIRES_ACTIVATE_PROVIDER: _requires_activate_provider,
    RuleKind.MAX_COMPANY_AGE_YEARS: _max_company_age_years,
    RuleKind.PRIOR_CREDITS_BELOW_USD: _prior_credits_below_usd,
    RuleKind.REQUIRES_GENAI_WORKLOAD: _requires_genai_workload,
    RuleKind.REQUIRES_WEBSITE: _requires_website,
    RuleKind.REQUIRES_AWS_ACCOUNT: _requires_aws_account,
    RuleKind.MIN_TOTAL_RAISED_USD: _min_total_raised_usd,
    RuleKind.MAX_TOTAL_RAISED_USD: _max_total_raised_usd,
    RuleKind.MIN_MONTHLY_REQUESTS: _min_monthly_requests,
}

_PARAM_CHECKS: dict[str, Callable[[dict], Any]] = {
    RuleKind.STAGE_IN: lambda p: _choice_list_param(p, "stages", Stage),
    RuleKind.FUNDING_KIND_IN: lambda p: _choice_list_param(p, "kinds", FundingKind),
    RuleKind.MAX_COMPANY_AGE_YEARS: lambda p: _int_param(p, "years"),
    RuleKind.PRIOR_CREDITS_BELOW_USD: lambda p: _decimal_param(p, "usd"),
    RuleKind.MIN_TOTAL_RAISED_USD: lambda p: _decimal_param(p, "usd"),
    RuleKind.MAX_TOTAL_RAISED_USD: lambda p: _decimal_param(p, "usd"),
    RuleKind.MIN_MONTHLY_REQUESTS: lambda p: _int_param(p, "requests"),
}


def check_params(kind: str, params: Any) -> None:
    """Raise RuleParamsError when a rule's kind is unknown or its parameters do not fit it."""
    if kind not in RULES:
        raise RuleParamsError(f"unknown rule kind {kind!r}")
    if not isinstance(params, dict):
        raise RuleParamsError("parameters must be a JSON object")
    check = _PARAM_CHECKS.get(kind)
    if check:
        check(params)


# How each kind of pool is obtained, in words that promise nothing: what an ineligible verdict says.
DEFAULT_ROUTE_REASONS = {
    FilingRoute.SELF_SERVE: "You apply for this yourself through AWS's public form; no partner files it.",
    FilingRoute.PARTNER_ACE: "Your matched AWS partner files this for you through ACE.",
    FilingRoute.COMPETITIVE: "You apply to a competitive cohort in its application window; awards are not guaranteed.",
}


# --- what the founder is told: one wording for the status page, the emails and the preview ---------

def verdict_headline(route: str, eligible: bool) -> str:
    """A competitive pool is never "you qualify": the startup may apply, a cohort is chosen."""
    if route == FilingRoute.COMPETITIVE:
        return "eligible to apply" if eligible else "not eligible to apply"
    return "you qualify" if eligible else "not eligible"


# Conditions a founder can meet today, and how: an ineligible verdict that fails only these says so.
FOUNDER_CAN_MEET = {
    "requires_aws_account": "create an AWS account (it is free) and give us its 12-digit account id",
    "requires_website": "publish a company website and give us its address",
}


def verdict_next_step(route: str, eligible: bool, failed_rules: list[str] | tuple[str, ...] = ()) -> str:
    """The founder's next step for one pool (pages and emails give the pool's apply link beside it).
    An ineligible verdict whose only gaps are ones the founder can close today says how to close them."""
    if not eligible:
        if failed_rules and all(kind in FOUNDER_CAN_MEET for kind in failed_rules):
            steps = "; ".join(dict.fromkeys(FOUNDER_CAN_MEET[kind] for kind in failed_rules))
            return (f"You can still qualify: {steps}. Reply to your status email with it and we will "
                    "check this pool again.")
        return "No next step for this pool: the conditions it needs and you do not meet are listed."
    if route == FilingRoute.SELF_SERVE:
        return "Apply yourself on AWS's form; your partner does not file this one."
    if route == FilingRoute.COMPETITIVE:
        return (
            "Apply in the program's next application window. A small cohort is chosen, so this is not "
            "counted in your expected credits and no partner files it."
        )
    return "Your AWS partner files it for you through ACE: nothing to do on your side yet."


def counts_as_expected(route: str, eligible: bool) -> bool:
    """Expected credits add up what the startup qualifies for; competitive awards are not expected."""
    return eligible and route != FilingRoute.COMPETITIVE


def files_through_partner(route: str) -> bool:
    """Only partner-filed pools get a credit application on the partner's side."""
    return route == FilingRoute.PARTNER_ACE


def evaluate_pool(applicant: Applicant, snapshot: dict[str, Any], *, today: date) -> PoolOutcome:
    """Run every rule of one snapshot against one applicant. All rules run, so the founder sees every
    reason, not just the first failure."""
    pool = snapshot["pool"]
    name = pool["name"]
    results = []
    for rule in snapshot["rules"]:
        passed, text = RULES[rule["kind"]](name, rule.get("params") or {}, applicant, today)
        results.append(RuleResult(rule=rule["kind"], passed=passed, text=text, source=rule.get("source") or {}))
    eligible = all(r.passed for r in results)
    route = pool["filing_route"]
    # The pool's own note may name amounts ("you can claim $1,000"): only an eligible verdict shows it.
    route_reason = (pool.get("route_note") if eligible else "") or DEFAULT_ROUTE_REASONS.get(route, "")
    return PoolOutcome(
        pool_slug=pool["slug"],
        pool_name=name,
        is_eligible=eligible,
        estimated_amount_usd=(
            Decimal(pool["typical_amount_usd"]) if counts_as_expected(route, eligible) else Decimal("0.00")
        ),
        route=route,
        route_reason=route_reason,
        reasons=results,
        apply_url=pool.get("apply_url") or "",
        source=pool.get("source") or {},
    )


def evaluate_all(applicant: Applicant, snapshots: Iterable[dict[str, Any]], *, today: date) -> list[PoolOutcome]:
    return [evaluate_pool(applicant, s, today=today) for s in snapshots]
