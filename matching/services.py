"""Matching's verbs: publish pool rules, record verdicts, open and match engagements, and move them
through their statuses. Each runs in one transaction and records its history."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from core.errors import DomainError
from intake.models import Intake

from . import eligibility, evaluation_cache, scoring
from .models import (
    CreditPool,
    Engagement,
    EngagementStatus,
    EngagementStatusChange,
    MatchDecision,
    MatchMethod,
    Partner,
    PoolRule,
    PoolVerdict,
    RuleSetVersion,
)
from .models.engagements import OCCUPYING_STATUSES
from .roles import access_of
from .signals import engagement_accepted
from .pool_seed import POOLS


class MatchingError(DomainError):
    """A business rule refused the change; the message is written for the person who asked."""


# --- pools and rules ------------------------------------------------------------------------------

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


# --- engagements ----------------------------------------------------------------------------------

def _by(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def _move(engagement: Engagement, to_status: str, *, by: AbstractBaseUser | None, reason: str = "") -> None:
    """The one place a status changes: checks the allowed moves and writes the history row."""
    if not engagement.can_move_to(to_status):
        raise MatchingError(
            f"An engagement that is {engagement.get_status_display().lower()} cannot become "
            f"{EngagementStatus(to_status).label.lower()}."
        )
    EngagementStatusChange.objects.create(
        engagement=engagement,
        from_status=engagement.status,
        to_status=to_status,
        partner=engagement.partner,
        changed_by=_by(by),
        reason=reason,
    )
    engagement.status = to_status
    engagement.save(update_fields=["status", "partner", "updated_at"])


def _locked(engagement: Engagement, *, by: AbstractBaseUser | None = None) -> Engagement:
    """The engagement's row, locked, as it is now. The caller decided on its own copy (and may have
    checked a partner's right to act on that copy): if the row has moved to another firm since, the
    verb is refused rather than applied to the new firm's match, and a partner's login may act only
    on its own firm's engagement whatever copy it holds."""
    locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
    if locked.partner_id != engagement.partner_id:
        raise MatchingError("This engagement has moved to another firm since you opened it; reload it.")
    access = access_of(by)
    if access.is_partner and locked.partner_id != access.partner_id:
        raise MatchingError("This engagement is not with your firm.")
    return locked


def partner_loads(partner_ids: list[int]) -> dict[int, int]:
    rows = (
        Engagement.objects.filter(partner_id__in=partner_ids, status__in=OCCUPYING_STATUSES)
        .values("partner_id")
        .annotate(n=Count("id"))
    )
    return {row["partner_id"]: row["n"] for row in rows}


def engagement_open(
    *, intake: Intake, by: AbstractBaseUser | None = None, verdicts: list[PoolVerdict] | None = None
) -> Engagement:
    """Open the engagement for an intake whose verdicts are recorded (pass them when you have them
    in hand, to save reading them again), then try to match a partner."""
    # No savepoint of its own: it only creates rows, and a failure fails the caller's transaction.
    with transaction.atomic(savepoint=False):
        if verdicts is None:
            verdicts = list(intake.verdicts.all())
        eligible = [v for v in verdicts if v.is_eligible]
        # Competitive awards are not counted as expected credits: a small cohort wins them.
        expected = [v for v in eligible if v.counts_as_expected]
        engagement = Engagement.objects.create(
            intake=intake,
            status=EngagementStatus.UNMATCHED,
            estimated_credits_usd=sum((v.estimated_amount_usd for v in expected), Decimal("0.00")),
        )
        # A new engagement has no pools yet: insert the links (matched_pools.set would read them first).
        Engagement.matched_pools.through.objects.bulk_create(
            Engagement.matched_pools.through(engagement=engagement, creditpool_id=v.pool_id) for v in eligible
        )
        EngagementStatusChange.objects.create(
            engagement=engagement,
            from_status="",
            to_status=EngagementStatus.UNMATCHED,
            changed_by=_by(by),
            reason="Intake received.",
        )
        # Created in this transaction, so nobody else can see it yet: no row lock to take, no
        # partner has declined it, and its intake is in hand.
        return _match(engagement, declined_ids=set(), by=by)


def _matchable_partners(*, lock: bool = False) -> list[Partner]:
    partners = Partner.objects.filter(is_vetted=True, is_active=True).order_by("id")
    return list(partners.select_for_update() if lock else partners)


def _partners_rank(needs, declined_ids: set[int], *, lock_all: bool):
    """Rank without locks from the partners kept in the process (matching.evaluation_cache: an edit
    to any partner loads them again); lock_all reads and locks every row afresh."""
    partners = _matchable_partners(lock=True) if lock_all else evaluation_cache.kept("partners", _matchable_partners)
    return (*scoring.rank(needs, partners, partner_loads([p.id for p in partners]), declined_ids),
            {p.id: p for p in partners})


class _ChoiceMoved(Exception):
    pass


def _choice_holds(chosen: dict[str, Any], needs, declined_ids: set[int]) -> Partner | None:
    """Lock the chosen partner and score it again: the partner as read under the lock (kept to
    commit) when it still fits with the same score, else None. Matches with one partner serialise
    on its row, so the load counted under the lock is exact. Otherwise the savepoint's rollback
    drops the lock, so the caller can lock every partner in id order without holding one out of
    order (no deadlock)."""
    try:
        with transaction.atomic():
            partner = Partner.objects.select_for_update().filter(pk=chosen["partner_id"]).first()
            if partner is None or not (partner.is_vetted and partner.is_active):
                raise _ChoiceMoved
            load = partner_loads([partner.id]).get(partner.id, 0)
            if (
                scoring.why_excluded(needs, partner, load, declined_ids) is not None
                or scoring.score_partner(needs, partner, load) != chosen
            ):
                raise _ChoiceMoved
    except _ChoiceMoved:
        return None
    return partner


def engagement_match(*, engagement: Engagement, by: AbstractBaseUser | None = None) -> Engagement:
    """Give a waiting engagement to the best vetted, active partner with a free slot, or leave it in
    the unmatched queue. Partners are ranked without locks; only the chosen partner's row is locked
    and its load counted again under that lock. If it changed meanwhile (a concurrent match took a
    slot), every candidate row is locked in id order and the ranking redone, so capacity holds."""
    with transaction.atomic():
        engagement = _locked(engagement)
        if engagement.status not in (EngagementStatus.UNMATCHED, EngagementStatus.DECLINED):
            raise MatchingError("Only an unmatched or declined engagement can be matched automatically.")
        declined_ids = set(
            engagement.history.filter(to_status=EngagementStatus.DECLINED, partner__isnull=False).values_list(
                "partner_id", flat=True
            )
        )
        return _match(engagement, declined_ids=declined_ids, by=by)


def _match(engagement: Engagement, *, declined_ids: set[int], by: AbstractBaseUser | None) -> Engagement:
    """engagement_match's work on an engagement the caller holds (locked, or created in this
    transaction): rank, lock and re-check the choice, record the decision and move the status."""
    with transaction.atomic(savepoint=False):
        needs = scoring.needs_of(engagement.intake)
        candidates, excluded, partners = _partners_rank(needs, declined_ids, lock_all=False)
        chosen = candidates[0] if candidates else None
        partner = _choice_holds(chosen, needs, declined_ids) if chosen else None
        if chosen and partner is None:
            candidates, excluded, partners = _partners_rank(needs, declined_ids, lock_all=True)
            chosen = candidates[0] if candidates else None
            partner = partners[chosen["partner_id"]] if chosen else None
        MatchDecision.objects.create(
            engagement=engagement,
            partner_id=chosen["partner_id"] if chosen else None,
            method=MatchMethod.AUTOMATIC,
            score=Decimal(chosen["total"]) if chosen else None,
            breakdown={
                "needs": needs.as_dict(),
                "tie_break": scoring.TIE_BREAK,
                "chosen": chosen,
                "candidates": candidates,
                "excluded": excluded,
            },
            decided_by=_by(by),
            reason="" if chosen else "No vetted, active partner with a free slot fits this workload and region.",
        )
        if chosen:
            engagement.partner = partner  # in hand: the history row names it without reading it again
            _move(engagement, EngagementStatus.MATCHED, by=by, reason=f"Matched automatically (score {chosen['total']}).")
        elif engagement.status == EngagementStatus.DECLINED:
            engagement.partner = None
            _move(engagement, EngagementStatus.UNMATCHED, by=by, reason="No other partner fits; waiting for staff.")
        return engagement


def engagement_assign(
    *, engagement: Engagement, partner: Partner, by: AbstractBaseUser, reason: str
) -> Engagement:
    """Staff place an engagement with a partner by hand (or override the automatic match)."""
    if not reason.strip():
        raise MatchingError("Say why you are assigning this partner by hand.")
    with transaction.atomic():
        engagement = _locked(engagement)
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        if not (partner.is_vetted and partner.is_active):
            raise MatchingError(f"{partner.name} is not a vetted, active partner.")
        if engagement.partner_id == partner.id and engagement.status == EngagementStatus.MATCHED:
            raise MatchingError(f"The engagement is already matched with {partner.name}.")
        load = partner_loads([partner.id]).get(partner.id, 0)
        if load >= partner.capacity:
            raise MatchingError(f"{partner.name} is at capacity ({load}/{partner.capacity}).")
        MatchDecision.objects.create(
            engagement=engagement,
            partner=partner,
            method=MatchMethod.MANUAL,
            breakdown={"previous_partner": engagement.partner.name if engagement.partner else None},
            decided_by=_by(by),
            reason=reason,
        )
        engagement.partner = partner
        _move(engagement, EngagementStatus.MATCHED, by=by, reason=f"Assigned by hand: {reason}")
        return engagement


def engagement_accept(*, engagement: Engagement, by: AbstractBaseUser | None) -> Engagement:
    with transaction.atomic():
        engagement = _locked(engagement, by=by)
        _move(engagement, EngagementStatus.ACCEPTED, by=by)
        # filing drafts the ACE opportunity and one credit application per pool, in this transaction.
        engagement_accepted.send(sender=Engagement, engagement=engagement, by=_by(by))
        return engagement


def engagement_decline(*, engagement: Engagement, by: AbstractBaseUser | None, reason: str) -> Engagement:
    """The partner declines; the engagement goes straight back to matching, skipping partners that
    declined it, and lands in the unmatched queue if nobody else fits."""
    if not reason.strip():
        raise MatchingError("Say why the engagement is declined.")
    with transaction.atomic():
        engagement = _locked(engagement, by=by)
        _move(engagement, EngagementStatus.DECLINED, by=by, reason=reason)
        return engagement_match(engagement=engagement, by=by)


def engagement_start(*, engagement: Engagement, by: AbstractBaseUser | None) -> Engagement:
    with transaction.atomic():
        engagement = _locked(engagement, by=by)
        _move(engagement, EngagementStatus.IN_PROGRESS, by=by)
        return engagement


def engagement_close(*, engagement: Engagement, by: AbstractBaseUser | None, reason: str = "") -> Engagement:
    with transaction.atomic():
        engagement = _locked(engagement, by=by)
        _move(engagement, EngagementStatus.CLOSED, by=by, reason=reason)
        return engagement

