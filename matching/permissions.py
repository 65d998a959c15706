"""The API's permission classes: who is CloudRoute staff or a partner firm's login, as matching.roles
decides it."""
from __future__ import annotations

from rest_framework import permissions

from .roles import access_of


class IsCloudRouteStaff(permissions.BasePermission):
    """CloudRoute's own staff (see matching.roles); a partner or a login with no role gets 403."""

    message = "Only CloudRoute staff may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return access_of(request).is_staff


class IsPartnerOrStaff(permissions.BasePermission):
    """A partner firm's login (token or session) or CloudRoute staff. Objects: staff see all; a
    partner only records whose engagement or run belongs to their firm (view.owner_partner_id)."""

    message = "Only a partner firm's logins and CloudRoute staff may use this endpoint."

    def has_permission(self, request, view) -> bool:
        access = access_of(request)
        return access.is_staff or access.is_partner

    def has_object_permission(self, request, view, obj) -> bool:
        access = access_of(request)
        if access.is_staff:
            return True
        owner = view.owner_partner_id(obj)
        return access.is_partner and owner is not None and owner == access.partner_id
