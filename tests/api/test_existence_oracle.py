"""A filter naming another firm's record answers exactly as one naming no record: the lists never
tell a partner which ids exist."""
import pytest

from cloudroute.api_urls import router

FILTERS = ("engagement", "eval_set", "partner", "run", "pool")


def list_urls():
    return [f"/api/{prefix}/" for prefix, _viewset, _basename in router.registry if not prefix.startswith("staff/")]


def foreign_ids(world):
    """Firm A's records, as firm B's login (bob) would name them."""
    return {"engagement": world.engagement_a.pk, "eval_set": world.eval_set_a.pk, "partner": world.partner_a.pk,
            "run": world.run_a.pk, "pool": world.engagement_a.matched_pools.get().pk}


@pytest.mark.parametrize("url", list_urls())
def test_another_firms_id_answers_as_an_id_that_does_not_exist(world, url):
    bob = world.client("bob")
    for name, foreign in foreign_ids(world).items():
        if name == "pool":
            continue  # pools are reference data every firm reads
        missing = 10**9 + foreign
        named_foreign = bob.get(url, {name: foreign})
        named_nothing = bob.get(url, {name: missing})
        assert named_foreign.status_code == named_nothing.status_code, (url, name)
        assert named_foreign.json() == named_nothing.json(), (url, name)


@pytest.mark.parametrize("url, name", [("/api/engagements/", "partner"), ("/api/eval-sets/", "engagement"),
                                       ("/api/bakeoffs/", "engagement"), ("/api/bakeoffs/", "eval_set")])
def test_record_filters_refuse_what_the_caller_cannot_read_and_take_its_own(world, url, name):
    own = {"engagement": world.engagement_a.pk, "eval_set": world.eval_set_a.pk, "partner": world.partner_a.pk}
    assert world.client("alice").get(url, {name: own[name]}).status_code == 200
    refused = world.client("bob").get(url, {name: own[name]})
    assert refused.status_code == 400
    assert refused.json()["fields"] == {name: ["Select a valid choice. That choice is not one of the available choices."]}
    assert world.client("staff").get(url, {name: own[name]}).status_code == 200
