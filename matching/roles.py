"""Who a login is to CloudRoute, decided here and nowhere else. The admin, the API, the pages,
the exports and the tasks all ask `access_of`.

Roles are positive grants:
- STAFF: an active superuser, or an active login in the "CloudRoute staff" group that works for
  no partner firm.
- PARTNER: an active login with a member row at an active, vetted partner firm.
- NONE: everybody else (anonymous, `is_staff` alone, a removed member, a member of a deleted,
  deactivated or unvetted firm, an inactive login). They read nothing and change nothing.

A login that is both a firm member and in the staff group is a PARTNER (the narrower grant): a
firm's login must never gain staff reach because its firm was deactivated, and a member row at a
firm that no longer qualifies leaves NONE, not STAFF. A superuser is STAFF whatever rows it has.
`is_staff` only lets a login open the admin; it grants nothing.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from .models import Partner, PartnerMember

STAFF_GROUP = "CloudRoute staff"
PARTNER_GROUP = "Partner staff"


class Role(enum.Enum):
    NONE = "none"
    PARTNER = "partner"
    STAFF = "staff"


@dataclass(frozen=True)
class Access:
    role: Role
    partner: Partner | None = None  # set for PARTNER only

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def is_partner(self) -> bool:
        return self.role is Role.PARTNER

    @property
    def partner_id(self) -> int | None:
        return self.partner.pk if self.partner is not None else None


NO_ACCESS = Access(Role.NONE)
_CACHE_ATTR = "_cloudroute_access"


def _decide(user: AbstractBaseUser | None) -> Access:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ACCESS
    if user.is_superuser:
        return Access(Role.STAFF)
    member = PartnerMember.objects.select_related("partner").filter(user=user).first()
    if member is not None:
        firm = member.partner
        return Access(Role.PARTNER, firm) if firm.is_active and firm.is_vetted else NO_ACCESS
    if user.groups.filter(name=STAFF_GROUP).exists():
        return Access(Role.STAFF)
    return NO_ACCESS


def access_of(who) -> Access:
    """The access of a user, or of a request's user (cached on the request: the admin asks many
    times per page). A user object is decided afresh each call, so a long-lived object never
    keeps a grant that was taken away."""
    request = getattr(who, "_request", who)  # a DRF Request wraps Django's
    if hasattr(request, "user") and hasattr(request, "META"):
        cached = getattr(request, _CACHE_ATTR, None)
        if cached is None or cached[0] is not request.user:
            cached = (request.user, _decide(request.user))
            setattr(request, _CACHE_ATTR, cached)
        return cached[1]
    return _decide(who)


def role_of(who) -> Role:
    return access_of(who).role


def partner_of(who) -> Partner | None:
    """The firm a PARTNER works for; None for staff and for logins with no role."""
    return access_of(who).partner


def scope_to(queryset, who, partner_path: str | None):
    """`queryset` as `who` may read it: all of it for staff, the rows whose `partner_path` is the
    partner's firm for a partner ("" for shared reference data, None for staff-only data, "pk"
    for Partner rows), none
    for anybody else."""
    access = access_of(who)
    if access.is_staff:
        return queryset
    if not access.is_partner or partner_path is None:
        return queryset.none()
    if partner_path == "":
        return queryset
    if partner_path == "pk":  # the Partner rows themselves: the firm's own
        return queryset.filter(pk=access.partner_id)
    return queryset.filter(**{partner_path: access.partner})


def partner_logins(partner: Partner):
    """The logins that hold the PARTNER role at `partner` (none while the firm is deactivated or
    not vetted): who the firm's emails go to."""
    from django.contrib.auth import get_user_model

    if not (partner.is_active and partner.is_vetted):
        return get_user_model().objects.none()
    return get_user_model().objects.filter(partner_member__partner=partner, is_active=True, is_superuser=False)


def access_context(request) -> dict:
    """Template context processor: `cloudroute_access` (decided only if a template reads it)."""
    from django.utils.functional import SimpleLazyObject

    return {"cloudroute_access": SimpleLazyObject(lambda: access_of(request))}


def _member_removed(sender, instance: PartnerMember, **kwargs) -> None:
    """A member row removed by hand, or with its firm: the login is deactivated (its sessions and
    API tokens stop working), so removing a grant can never leave a login with more than before."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=instance.user_id).update(is_active=False)


def _member_moved(sender, instance: PartnerMember, raw: bool = False, **kwargs) -> None:
    """A member row handed to another login: the login it is taken from is deactivated too."""
    if raw or instance.pk is None:
        return
    previous = PartnerMember.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    if previous is not None and previous != instance.user_id:
        _member_removed(sender, PartnerMember(user_id=previous))


def connect() -> None:
    from django.db.models.signals import pre_delete, pre_save

    pre_delete.connect(_member_removed, sender=PartnerMember, dispatch_uid="roles.member_removed")
    pre_save.connect(_member_moved, sender=PartnerMember, dispatch_uid="roles.member_moved")
