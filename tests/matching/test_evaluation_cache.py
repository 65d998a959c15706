"""Rule versions and partners are kept in each process between edits: an evaluation costs fewer
queries, and an edit made anywhere — another process, this transaction — decides the very next
evaluation, while an edit rolled back leaves nothing behind."""
import pytest
from django.db import transaction
from rest_framework.test import APIClient

from intake.services import intake_receive
from matching import evaluation_cache, pool_rules
from matching.intake_flow import intake_evaluate, intake_submit
from matching.models import Engagement, EvaluationStamp, PoolVerdict, RuleSetVersion
from tests.bakeoff_jobs.worker import start_worker, wait_for  # noqa: F401 - fixture
from tests.factories import PartnerFactory, intake_data


def _evaluated(company: str, **answers):
    intake, _ = intake_submit(data=intake_data(company_name=company, **answers), notify=False)
    return intake


def _age_rule_narrowed(pool, years: int = 1) -> RuleSetVersion:
    rule = pool.rules.get(kind="max_company_age_years")
    rule.params = {"years": years}
    rule.save()
    return pool_rules.pool_rules_publish(pool=pool)


class _ProcessMemory:
    """What another process holds: its kept values survive an edit made here (only the stamp in
    the database can tell it about the edit)."""

    def __enter__(self):
        self.before = dict(evaluation_cache._kept)
        return self

    def __exit__(self, *exc):
        evaluation_cache._kept.update(self.before)


@pytest.mark.django_db
def test_an_evaluation_reads_rules_and_partners_once_per_edit(pools, django_capture_on_commit_callbacks,
                                                             django_assert_max_num_queries):
    PartnerFactory()
    _evaluated("Warm-up Co")  # loads and keeps the rule versions and partners
    with django_capture_on_commit_callbacks():
        intake, _ = intake_receive(data=intake_data(company_name="Second Co"))
    # The evaluation's own savepoint and its release (BEGIN and COMMIT outside a test), the intake's
    # lock (with the stamp), verdicts, the chosen partner checked again (savepoint, lock, load,
    # release), the engagement inserted with its status and partner, its pools, history, decision,
    # match history, evaluated_at, and the partner's new-match email stored in the same transaction
    # (core.mail: one INSERT ... ON CONFLICT): 16.
    # Before: 21, with three queries for the rule versions, one for the partners and one reading the
    # chosen partner again for the history row, on every evaluation; then 16 with the email sent
    # after commit, and no row to retry it from.
    with django_assert_max_num_queries(16):
        intake_evaluate(intake_id=intake.id)
    assert Engagement.objects.get(intake=intake).partner is not None


@pytest.mark.django_db
def test_a_version_published_elsewhere_decides_the_very_next_evaluation(pools):
    portfolio = pools["activate-portfolio"]
    before = _evaluated("Before Co").verdicts.get(pool=portfolio)
    assert before.is_eligible and before.rule_version.version == 1

    with _ProcessMemory():
        version = _age_rule_narrowed(portfolio)

    after = _evaluated("After Co").verdicts.get(pool=portfolio)
    assert after.rule_version == version and after.rule_version.version == 2 and not after.is_eligible


@pytest.mark.django_db
def test_a_partner_edited_elsewhere_is_ranked_as_edited(pools):
    northwind = PartnerFactory(name="Northwind Cloud Partners", specialties=["genai", "data"])
    southwind = PartnerFactory(name="Southwind Data", specialties=["genai"])
    # Search wants genai and data: Northwind brings both, Southwind one.
    assert _evaluated("First Co", use_case="rag_search").engagement.partner == northwind

    with _ProcessMemory():  # Southwind brings data work now; Northwind, if chosen, would still hold
        southwind.specialties = ["genai", "data"]
        southwind.save()

    second = _evaluated("Second Co", use_case="rag_search").engagement
    assert second.partner == southwind, second.partner


@pytest.mark.django_db
def test_an_edit_rolled_back_leaves_no_trace(pools):
    portfolio = pools["activate-portfolio"]
    _evaluated("Warm-up Co")
    with pytest.raises(RuntimeError), transaction.atomic():
        _age_rule_narrowed(portfolio)
        inside = _evaluated("Inside Co").verdicts.get(pool=portfolio)
        assert inside.rule_version.version == 2 and not inside.is_eligible  # its own edit, at once
        raise RuntimeError("the edit is rolled back")

    after = _evaluated("After Co").verdicts.get(pool=portfolio)
    assert after.rule_version.version == 1 and after.is_eligible
    assert RuleSetVersion.objects.filter(pool=portfolio).count() == 1


@pytest.mark.django_db
def test_without_a_stamp_row_nothing_is_kept_and_the_answer_is_the_same(pools):
    EvaluationStamp.objects.all().delete()
    evaluation_cache._kept.clear()
    _evaluated("First Co")
    assert evaluation_cache._kept == {}
    with _ProcessMemory():
        version = _age_rule_narrowed(pools["activate-portfolio"])
    assert _evaluated("Second Co").verdicts.get(pool=pools["activate-portfolio"]).rule_version == version


@pytest.mark.django_db
def test_a_migration_renews_the_stamp(pools):
    from django.apps import apps
    from django.db.models.signals import post_migrate

    stamp = evaluation_cache.stamp_read()
    post_migrate.send(sender=apps.get_app_config("matching"), app_config=apps.get_app_config("matching"),
                      verbosity=0, interactive=False, using="default", apps=apps, plan=[])
    assert evaluation_cache.stamp_read() not in (None, stamp)


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_evaluates_with_a_version_published_after_it_started(pools, start_worker):
    from tests.api.conftest import api_intake_body

    portfolio = pools["activate-portfolio"]
    start_worker(concurrency=1)

    def evaluated_through_the_worker(company: str) -> PoolVerdict:
        accepted = APIClient().post("/api/intakes/", api_intake_body(company_name=company), format="json")
        assert accepted.status_code == 202
        return wait_for(lambda: PoolVerdict.objects.filter(intake__company_name=company, pool=portfolio)
                        .select_related("rule_version").first(), timeout=30)

    assert evaluated_through_the_worker("Early Co").rule_version.version == 1  # the worker keeps version 1
    version = _age_rule_narrowed(portfolio)
    late = evaluated_through_the_worker("Late Co")
    assert late.rule_version == version and not late.is_eligible
