"""Matching's verbs on engagements: open one for an evaluated intake, match and assign a partner,
and move it through its statuses (accept, decline, start, close). Each runs in one transaction on
the locked row and records its history. Pools, rules and verdicts: matching.pool_rules."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count

from core.errors import DomainError
from intake.models import Intake

from . import evaluation_cache, scoring
from .models import (
    Engagement,
    EngagementStatus,
    EngagementStatusChange,
    MatchDecision,
    MatchMethod,
    Partner,
    PoolVerdict,
)
from .models.engagements import OCCUPYING_STATUSES
from .roles import access_of
from .signals import engagement_accepted


class MatchingError(DomainError):
    """A business rule refused the change; the message is written for the person who asked."""


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
    in hand, to save reading them again), and match a partner. The partner is chosen first, so the
    engagement is inserted with its status; its history reads as before: received (unmatched), then
    matched."""
    # No savepoint of its own: it only creates rows, and a failure fails the caller's transaction.
    with transaction.atomic(savepoint=False):
        if verdicts is None:
            verdicts = list(intake.verdicts.all())
        eligible = [v for v in verdicts if v.is_eligible]
        # Competitive awards are not counted as expected credits: a small cohort wins them.
        expected = [v for v in eligible if v.counts_as_expected]
        # Nobody else can see this engagement yet: no row lock to take, no partner has declined it,
        # and its intake is in hand.
        choice = _choose(scoring.needs_of(intake), declined_ids=set())
        engagement = Engagement.objects.create(
            intake=intake,
            status=EngagementStatus.MATCHED if choice.partner else EngagementStatus.UNMATCHED,
            partner=choice.partner,
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
        _decision_record(engagement, choice, by=by)
        if choice.partner:
            EngagementStatusChange.objects.create(
                engagement=engagement,
                from_status=EngagementStatus.UNMATCHED,
                to_status=EngagementStatus.MATCHED,
                partner=choice.partner,
                changed_by=_by(by),
                reason=_matched_reason(choice),
            )
        return engagement


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


@dataclass(frozen=True)
class _Choice:
    needs: scoring.Needs
    chosen: dict[str, Any] | None
    candidates: list
    excluded: list
    partner: Partner | None  # read under its row lock, kept to commit


def _choose(needs, declined_ids: set[int]) -> _Choice:
    """Rank, then lock and re-check the choice; if it moved meanwhile, lock every candidate in id
    order and rank again."""
    candidates, excluded, partners = _partners_rank(needs, declined_ids, lock_all=False)
    chosen = candidates[0] if candidates else None
    partner = _choice_holds(chosen, needs, declined_ids) if chosen else None
    if chosen and partner is None:
        candidates, excluded, partners = _partners_rank(needs, declined_ids, lock_all=True)
        chosen = candidates[0] if candidates else None
        partner = partners[chosen["partner_id"]] if chosen else None
    return _Choice(needs=needs, chosen=chosen, candidates=candidates, excluded=excluded, partner=partner)


def _decision_record(engagement: Engagement, choice: _Choice, *, by: AbstractBaseUser | None) -> MatchDecision:
    chosen = choice.chosen
    return MatchDecision.objects.create(
        engagement=engagement,
        partner_id=chosen["partner_id"] if chosen else None,
        method=MatchMethod.AUTOMATIC,
        score=Decimal(chosen["total"]) if chosen else None,
        breakdown={
            "needs": choice.needs.as_dict(),
            "tie_break": scoring.TIE_BREAK,
            "chosen": chosen,
            "candidates": choice.candidates,
            "excluded": choice.excluded,
        },
        decided_by=_by(by),
        reason="" if chosen else "No vetted, active partner with a free slot fits this workload and region.",
    )


def _matched_reason(choice: _Choice) -> str:
    return f"Matched automatically (score {choice.chosen['total']})."


def _match(engagement: Engagement, *, declined_ids: set[int], by: AbstractBaseUser | None) -> Engagement:
    """engagement_match's work on an engagement the caller holds locked: choose, record the
    decision and move the status."""
    with transaction.atomic(savepoint=False):
        choice = _choose(scoring.needs_of(engagement.intake), declined_ids)
        _decision_record(engagement, choice, by=by)
        if choice.partner:
            engagement.partner = choice.partner  # in hand: the history row names it without reading it again
            _move(engagement, EngagementStatus.MATCHED, by=by, reason=_matched_reason(choice))
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

