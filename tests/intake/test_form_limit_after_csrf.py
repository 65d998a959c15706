"""The public form's rate limit counts only posts that passed the CSRF check: a page on another site
making its visitors' browsers post the form cannot use up their address's allowance."""
import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.23"


def test_cross_site_posts_do_not_spend_the_addresss_allowance(pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=ADDRESS)

    forged = [browser.post(reverse("intake:home"), {}).status_code for _ in range(5)]
    page = browser.get(reverse("intake:home"))
    token = page.context["csrf_token"]
    own = [browser.post(reverse("intake:home"), {"csrfmiddlewaretoken": token}).status_code for _ in range(3)]

    assert forged == [403] * 5
    assert own == [400, 400, 429]  # the founder's own posts are still limited
