"""The filing models moved from matching to filing without touching a table (matching 0010, filing
0001): a row written before the move reads after it, and a partner group's grant on the old
`matching.*` permission is the `filing.*` permission afterwards, as is the admin's log entry."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from filing.models import AceOpportunity
from tests.factories import IntakeFactory, PartnerFactory

BEFORE = [("matching", "0009_ace_opportunity_id_once"), ("filing", None)]
AFTER = [("filing", "0001_initial")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    """Migrates to `targets`; the models as they are then (every other app at its latest)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    moved = {app for app, _ in targets}
    nodes = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in moved]
    return executor.loader.project_state(nodes + [t for t in targets if t[1] is not None]).apps


@pytest.fixture
def before_the_move():
    """The database as matching 0009 left it (the filing models still matching's); put back after."""
    apps = _migrate(BEFORE)
    yield apps
    _migrate(AFTER)


def test_a_row_and_a_partner_groups_grant_made_before_the_move_hold_after_it(before_the_move):
    old = before_the_move
    assert ("matching", "aceopportunity") in {(m._meta.app_label, m._meta.model_name) for m in old.get_models()}
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldPermission = old.get_model("auth", "Permission")
    OldGroup = old.get_model("auth", "Group")
    OldUser = old.get_model("auth", "User")
    OldLogEntry = old.get_model("admin", "LogEntry")
    OldEngagement = old.get_model("matching", "Engagement")
    OldAceOpportunity = old.get_model("matching", "AceOpportunity")

    engagement = OldEngagement.objects.create(intake_id=IntakeFactory().pk, partner_id=PartnerFactory().pk,
                                              status="accepted")
    opportunity = OldAceOpportunity.objects.create(
        engagement_id=engagement.pk, catalog="Sandbox", company_name="Parsewell", country_code="US",
        title="Parsewell on Amazon Bedrock", customer_business_problem="A problem described at length.",
    )
    old_type, _ = OldContentType.objects.get_or_create(app_label="matching", model="aceopportunity")
    change, _ = OldPermission.objects.get_or_create(
        content_type=old_type, codename="change_aceopportunity", defaults={"name": "Can change ACE opportunity"})
    group = OldGroup.objects.create(name="Partner staff (before the move)")
    group.permissions.add(change)
    login = OldUser.objects.create(username="alice-before-the-move", is_staff=True)
    login.groups.add(group)
    OldLogEntry.objects.create(user_id=login.pk, content_type_id=old_type.pk, object_id=str(opportunity.pk),
                               object_repr="ACE draft", action_flag=2, change_message="[]")

    _migrate(AFTER)

    moved = AceOpportunity.objects.get(pk=opportunity.pk)
    assert (moved.company_name, moved.engagement_id) == ("Parsewell", engagement.pk)
    assert AceOpportunity._meta.db_table == "matching_aceopportunity"
    assert not ContentType.objects.filter(app_label="matching", model="aceopportunity").exists()
    assert ContentType.objects.get_for_model(AceOpportunity).pk == old_type.pk  # the same row, relabelled

    alice = get_user_model().objects.get(pk=login.pk)  # a fresh object: no permission cache
    assert alice.has_perm("filing.change_aceopportunity")
    assert not alice.has_perm("matching.change_aceopportunity")
    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get(user_id=login.pk)
    assert entry.get_edited_object() == moved


def test_moving_back_gives_matching_its_content_types_again(before_the_move):
    old_type = before_the_move.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="matching", model="creditapplication")[0]

    _migrate(AFTER)
    assert ContentType.objects.get(pk=old_type.pk).app_label == "filing"
    _migrate(BEFORE)
    assert ContentType.objects.get(pk=old_type.pk).app_label == "matching"
