"""matching.roles decides every login's role; grants are positive and removing one never widens."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from matching.roles import Role, access_of, partner_logins, role_of
from tests.factories import (
    DEACTIVATED_ROLELESS,
    ROLELESS,
    CloudRouteStaffFactory,
    PartnerFactory,
    PartnerMemberFactory,
    StaffUserFactory,
    UserFactory,
    roleless_logins,
)

pytestmark = pytest.mark.django_db


def test_superuser_and_staff_group_are_staff_partner_member_is_partner():
    assert role_of(StaffUserFactory()) is Role.STAFF
    assert role_of(CloudRouteStaffFactory()) is Role.STAFF
    member = PartnerMemberFactory()
    access = access_of(member.user)
    assert (access.role, access.partner) == (Role.PARTNER, member.partner)


@pytest.mark.parametrize("kind", ROLELESS)
def test_every_other_login_has_no_role(kind):
    user = roleless_logins()[kind]
    assert role_of(user) is Role.NONE
    assert user.is_active is (kind not in DEACTIVATED_ROLELESS)


def test_anonymous_and_inactive_logins_have_no_role():
    assert role_of(AnonymousUser()) is Role.NONE
    assert role_of(None) is Role.NONE
    assert role_of(StaffUserFactory(is_active=False)) is Role.NONE
    assert role_of(CloudRouteStaffFactory(is_active=False)) is Role.NONE
    assert role_of(PartnerMemberFactory(user__is_active=False).user) is Role.NONE


def test_a_firm_member_in_the_staff_group_is_only_a_partner_and_never_staff_when_the_firm_goes():
    user = CloudRouteStaffFactory()
    member = PartnerMemberFactory(user=user)
    assert role_of(user) is Role.PARTNER
    member.partner.is_active = False
    member.partner.save()
    assert role_of(user) is Role.NONE  # never widened to staff by the firm's deactivation


def test_a_superuser_member_is_staff():
    user = StaffUserFactory()
    PartnerMemberFactory(user=user)
    assert role_of(user) is Role.STAFF


def test_deleting_a_firm_or_a_member_row_deactivates_its_logins():
    firm = PartnerFactory()
    alice, bob = PartnerMemberFactory(partner=firm).user, PartnerMemberFactory(partner=firm).user
    alice.partner_member.delete()
    alice.refresh_from_db()
    assert not alice.is_active
    firm.delete()
    bob.refresh_from_db()
    assert not bob.is_active and role_of(bob) is Role.NONE


def test_a_member_row_handed_to_another_login_deactivates_the_login_it_left():
    staff_and_member = CloudRouteStaffFactory()
    member = PartnerMemberFactory(user=staff_and_member)
    member.user = UserFactory()
    member.save()
    staff_and_member.refresh_from_db()
    assert not staff_and_member.is_active and role_of(staff_and_member) is Role.NONE  # never staff by losing a firm
    assert role_of(member.user) is Role.PARTNER


def test_the_request_caches_the_decision_for_its_own_user(django_assert_num_queries):
    user = PartnerMemberFactory().user
    request = RequestFactory().get("/")
    request.user = user
    with django_assert_num_queries(1):
        for _ in range(5):
            assert access_of(request).is_partner
    request.user = UserFactory(is_staff=True)
    assert access_of(request).role is Role.NONE  # another user on the request: decided again


def test_firm_emails_go_only_to_logins_with_the_partner_role():
    firm = PartnerFactory()
    PartnerMemberFactory(partner=firm, user__email="a@firm.example")
    PartnerMemberFactory(partner=firm, user__email="off@firm.example", user__is_active=False)
    assert [u.email for u in partner_logins(firm)] == ["a@firm.example"]
    firm.is_vetted = False
    firm.save()
    assert list(partner_logins(firm)) == []
