"""A double click on a button that changes something posts it once: the forms marked
data-submit-once (static/cloudroute-forms.js) ignore the repeat while the page is on its way."""
import pytest
from playwright.sync_api import expect

from matching.admin_scoping import admin_groups_ensure
from tests.bakeoff_jobs.factories import EngagementFactory
from tests.factories import PartnerFactory, PartnerMemberFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_double_click_on_accept_posts_once(page, live_server):
    alpha = PartnerFactory(name="Alpha Partners")
    alice = UserFactory(username="alice", is_staff=True)
    alice.groups.add(admin_groups_ensure()[0])
    PartnerMemberFactory(user=alice, partner=alpha)
    engagement = EngagementFactory(partner=alpha, status="matched", intake__company_name="Parsewell")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/engagements/{engagement.pk}/")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    # The second click lands once the first one's request is under way, as an impatient person's does.
    page.get_by_role("button", name="Accept this engagement").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 30); }")

    expect(page.get_by_role("status")).to_contain_text("You accepted Parsewell")
    expect(page.locator("#engagement-status")).to_have_text("Accepted")
    assert posts == [f"{live_server.url}/engagements/{engagement.pk}/accept/"]
    # No "already accepted" error from a second post.
    expect(page.get_by_role("alert")).to_have_count(0)
    assert engagement.history.filter(to_status="accepted").count() == 1
