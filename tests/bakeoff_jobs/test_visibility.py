"""Who sees which bake-off: CloudRoute staff everything, a partner's staff their firm's runs only,
every login without a role nothing."""
import pytest

from bakeoff_jobs import selectors, services

from tests.factories import ROLELESS, CloudRouteStaffFactory, roleless_logins

from .factories import PartnerMemberFactory, claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    alice = PartnerMemberFactory(user__username="alice").user
    bob = PartnerMemberFactory(user__username="bob", partner=alice.partner_member.partner).user
    charlie = PartnerMemberFactory(user__username="charlie").user
    staff = CloudRouteStaffFactory(username="staff")
    return alice, bob, charlie, staff


def test_partner_colleagues_see_the_run_and_outsiders_do_not(people):
    alice, bob, charlie, staff = people
    eval_set = eval_set_with_cases(1, partner=alice.partner_member.partner)
    run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()], created_by=alice)
    assert list(selectors.runs_visible_to(alice)) == [run]
    assert list(selectors.runs_visible_to(bob)) == [run]
    assert list(selectors.runs_visible_to(charlie)) == []
    assert list(selectors.runs_visible_to(staff)) == [run]
    assert list(selectors.eval_sets_visible_to(charlie)) == []


@pytest.mark.parametrize("kind", ROLELESS)
def test_logins_without_a_role_see_no_run_and_no_eval_set(people, kind):
    alice = people[0]
    eval_set = eval_set_with_cases(1, partner=alice.partner_member.partner)
    services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()], created_by=alice)
    login = roleless_logins()[kind]
    assert list(selectors.runs_visible_to(login)) == []
    assert list(selectors.eval_sets_visible_to(login)) == []
