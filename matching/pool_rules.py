"""Matching's verbs on credit pools: publish a pool's rules as a frozen version, seed the pools,
preview an edit and its impact on past intakes, and record an intake's verdicts. Each runs in one
transaction; the versions a process reads are kept by matching.evaluation_cache."""
from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from intake.models import Intake

from . import eligibility, evaluation_cache
from .models import CreditPool, PoolRule, PoolVerdict, RuleSetVersion
from .pool_seed import POOLS


def pool_rules_publish(*, pool: CreditPool, by: AbstractBaseUser | None = None) -> RuleSetVersion:
    """Freeze the pool's current terms and rules as a new version, unless the latest already matches."""
    with transaction.atomic():
        pool = CreditPool.objects.select_for_update().get(pk=pool.pk)
        snapshot = eligibility.build_snapshot(pool, pool.rules.order_by("position", "id"))
        for rule in snapshot["rules"]:
            eligibility.check_params(rule["kind"], rule["params"])
        digest = eligibility.snapshot_digest(snapshot)
        latest = pool.rule_versions.order_by("-version").first()
        if latest and latest.digest == digest:
            return latest
        return RuleSetVersion.objects.create(
            pool=pool,
            version=(latest.version + 1) if latest else 1,
            snapshot=snapshot,
            digest=digest,
            created_by=by if by and by.is_authenticated else None,
        )


def pools_seed(*, by: AbstractBaseUser | None = None) -> list[CreditPool]:
    """Create the reference pools that do not exist yet (never overwrites staff edits) and publish them."""
    pools = []
    with transaction.atomic():
        for spec in POOLS:
            fields = {k: v for k, v in spec.items() if k not in ("slug", "rules")}
            pool, created = CreditPool.objects.get_or_create(slug=spec["slug"], defaults=fields)
            if created:
                PoolRule.objects.bulk_create(
                    PoolRule(pool=pool, kind=kind, params=params, position=i, **source)
                    for i, (kind, params, source) in enumerate(spec["rules"], start=1)
                )
            pool_rules_publish(pool=pool, by=by)
            pools.append(pool)
    return pools


# Versions are never edited once written, so each process keeps the ones it has read (snapshot
# included), keyed by id, pool, number and digest: after an edit to one pool, the others' snapshots
# are not read again.
_versions_seen: dict[tuple, RuleSetVersion] = {}


def current_rule_versions() -> list[RuleSetVersion]:
    """The version each active pool is evaluated with now (publishing any unpublished edit first).
    Kept in the process until a pool, rule, version or partner is edited (matching.evaluation_cache):
    then one query tells. After an edit it takes three queries whatever the number of pools (pools,
    their rules, latest versions) and, when nothing is left to publish, no row lock, so concurrent
    intakes don't queue on the pools."""
    return list(evaluation_cache.kept("rule_versions", _rule_versions_load))


def _rule_versions_load() -> list[RuleSetVersion]:
    pools = list(CreditPool.objects.filter(is_active=True).prefetch_related("rules"))
    latest = {
        row["pool_id"]: row
        for row in RuleSetVersion.objects.filter(
            pool__in=pools,
            version=Subquery(
                RuleSetVersion.objects.filter(pool=OuterRef("pool")).order_by("-version").values("version")[:1]
            ),
        ).values("id", "pool_id", "version", "digest")
    }
    current: dict[int, tuple] = {}
    for pool in pools:
        row = latest.get(pool.id)
        rules = sorted(pool.rules.all(), key=lambda r: (r.position, r.id))
        if row is not None and row["digest"] == eligibility.snapshot_digest(eligibility.build_snapshot(pool, rules)):
            current[pool.id] = (row["id"], row["pool_id"], row["version"], row["digest"])
    missing = [key[0] for key in current.values() if key not in _versions_seen]
    if missing:
        _versions_seen.update(
            ((v.id, v.pool_id, v.version, v.digest), v) for v in RuleSetVersion.objects.filter(id__in=missing)
        )
    return [
        _versions_seen[current[pool.id]] if pool.id in current else pool_rules_publish(pool=pool)
        for pool in pools
    ]


# --- eligibility ----------------------------------------------------------------------------------

def eligibility_preview(
    *, applicant: Any, today: date | None = None, proposed: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Evaluate an unsaved intake-like object against the live rules of every active pool (or, for
    the pools in `proposed`, a proposed edit), writing nothing (not even a new rule version). Each
    result names the version it matches, if any, and how it differs from the published version."""
    today = today or timezone.localdate()
    proposed = proposed or {}
    results = []
    for pool in CreditPool.objects.filter(is_active=True).prefetch_related("rules"):
        snapshot = proposed.get(pool.slug) or eligibility.build_snapshot(pool, pool.rules.all())
        latest = pool.rule_versions.order_by("-version").first()
        published = latest is not None and latest.digest == eligibility.snapshot_digest(snapshot)
        outcome = eligibility.evaluate_pool(applicant, snapshot, today=today)
        before = eligibility.evaluate_pool(applicant, latest.snapshot, today=today) if latest else None
        results.append({**outcome.as_dict(), "rule_version": latest.version if published else "unpublished",
                        "published_version": latest.version if latest else None,
                        "change": verdict_change(before, outcome)})
    return results


PROPOSED_TERMS = {"name", "filing_route", "route_note", "apply_url", "amount_min_usd", "amount_max_usd",
                  "typical_amount_usd", "source_url", "source_as_of", "source_note"}


def proposed_snapshots_read(data: Any) -> dict[str, dict[str, Any]]:
    """Proposed pool edits as plain data ({"pool": slug, "rules": [...], and any terms}) checked and
    turned into snapshots over the live pools. Raises ValueError naming the pool, rule and field."""
    from django.core.exceptions import ValidationError
    from django.forms.models import model_to_dict

    items = data if isinstance(data, list) else [data]
    snapshots = {}
    for index, item in enumerate(items, start=1):
        where = f"edit {index}"
        if not isinstance(item, dict) or not isinstance(item.get("pool"), str):
            raise ValueError(f'{where}: needs "pool" (a pool slug) in a JSON object')
        pool = CreditPool.objects.filter(slug=item["pool"]).first()
        if pool is None:
            raise ValueError(f'{where}: no pool with slug "{item["pool"]}"')
        unknown = set(item) - PROPOSED_TERMS - {"pool", "rules"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; terms are {sorted(PROPOSED_TERMS)}")
        terms = {**model_to_dict(pool), **{k: v for k, v in item.items() if k in PROPOSED_TERMS}}
        draft = CreditPool(**{k: v for k, v in terms.items() if k not in ("id", "engagements")})
        draft.pk = pool.pk
        rules = item.get("rules")
        if rules is None:
            rules = [model_to_dict(r, exclude=["id", "pool"]) for r in pool.rules.all()]
        if not isinstance(rules, list):
            raise ValueError(f'{where}: "rules" must be a list')
        drafts = []
        try:
            draft.full_clean(exclude=["slug"], validate_unique=False)
            for position, rule in enumerate(rules, start=1):
                if not isinstance(rule, dict):
                    raise ValueError(f"{where}, rule {position}: must be a JSON object")
                fields = {k: rule.get(k, "") for k in ("kind", "source_url", "source_as_of", "source_note")}
                drafts.append(PoolRule(pool=draft, params=rule.get("params", {}), position=position, **fields))
                drafts[-1].full_clean(exclude=["pool"])
        except ValidationError as exc:
            rule_where = f", rule {len(drafts)}" if drafts else ""
            raise ValueError(f"{where} ({pool.slug}){rule_where}: {_messages(exc)}") from exc
        snapshots[pool.slug] = eligibility.build_snapshot(draft, drafts)
    return snapshots


def _messages(error) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


# --- impact of a rule edit, before it is published ------------------------------------------------

class Change:
    """Directions a verdict can move when a pool's rules change."""

    NEWLY_ELIGIBLE = "newly_eligible"
    NO_LONGER_ELIGIBLE = "no_longer_eligible"
    ESTIMATE_CHANGED = "estimate_changed"
    ROUTE_CHANGED = "route_changed"


def verdict_change(before: eligibility.PoolOutcome | None, after: eligibility.PoolOutcome) -> str | None:
    """How one intake's verdict for one pool moves from `before` (None: the pool had no published
    version, so nobody was told they qualify) to `after`; None when the founder would be told the same."""
    was_eligible = before.is_eligible if before else False
    if was_eligible != after.is_eligible:
        return Change.NEWLY_ELIGIBLE if after.is_eligible else Change.NO_LONGER_ELIGIBLE
    if before is None:
        return None
    if before.route != after.route and after.is_eligible:
        return Change.ROUTE_CHANGED
    if before.estimated_amount_usd != after.estimated_amount_usd:
        return Change.ESTIMATE_CHANGED
    return None


def _outcome_summary(outcome: eligibility.PoolOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {"eligible": outcome.is_eligible, "headline": outcome.headline,
            "estimated_amount_usd": str(outcome.estimated_amount_usd), "route": outcome.route,
            "failed": [r.text for r in outcome.reasons if not r.passed]}


def rule_edit_impact(
    *, pool: CreditPool, snapshot: dict[str, Any], last: int, today: date | None = None
) -> dict[str, Any]:
    """Which of the last `last` intakes would get a different verdict for `pool` if `snapshot` (an
    edit not yet published) replaced its published version, and in which direction. Both are
    evaluated as of the same day, so only the edit makes a difference. Writes nothing."""
    today = today or timezone.localdate()
    for rule in snapshot["rules"]:
        eligibility.check_params(rule["kind"], rule["params"])
    published = pool.rule_versions.order_by("-version").first()
    intakes = list(Intake.objects.order_by("-submitted_at", "-id")[:last])
    changes = []
    for intake in intakes:
        before = eligibility.evaluate_pool(intake, published.snapshot, today=today) if published else None
        after = eligibility.evaluate_pool(intake, snapshot, today=today)
        direction = verdict_change(before, after)
        if direction:
            changes.append({"intake": intake.pk, "company_name": intake.company_name,
                            "submitted_at": intake.submitted_at.isoformat() if intake.submitted_at else None,
                            "change": direction, "before": _outcome_summary(before), "after": _outcome_summary(after)})
    counts = {d: sum(1 for c in changes if c["change"] == d) for d in (
        Change.NEWLY_ELIGIBLE, Change.NO_LONGER_ELIGIBLE, Change.ROUTE_CHANGED, Change.ESTIMATE_CHANGED)}
    return {"pool": pool.slug, "published_version": published.version if published else None,
            "unchanged_snapshot": bool(published) and published.digest == eligibility.snapshot_digest(snapshot),
            "intakes_checked": len(intakes), "changed": len(changes), "counts": counts, "changes": changes}


def intake_verdicts_record(*, intake: Intake, today: date | None = None) -> list[PoolVerdict]:
    """Store one verdict per active pool for this intake. Reasons are copied as data, so later rule
    edits never change what this intake was told."""
    today = today or timezone.localdate()
    verdicts = []
    # No savepoint of its own: a failure here fails the caller's whole submission anyway.
    with transaction.atomic(savepoint=False):
        for version in current_rule_versions():
            outcome = eligibility.evaluate_pool(intake, version.snapshot, today=today)
            verdicts.append(
                PoolVerdict(
                    intake=intake,
                    pool_id=version.pool_id,
                    rule_version=version,
                    is_eligible=outcome.is_eligible,
                    estimated_amount_usd=outcome.estimated_amount_usd,
                    route=outcome.route,
                    route_reason=outcome.route_reason,
                    reasons=[r.as_dict() for r in outcome.reasons],
                )
            )
        PoolVerdict.objects.bulk_create(verdicts)
    return verdicts
